// Fronting an external MCP server: Warden connects as a client and re-serves only the tools whose whole
// definition an operator approved; a tool that changed since its approval is withheld, with what changed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  type Tool as McpTool,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { AuditLog } from "../audit.ts";
import { systemTool } from "../cells/hardening.ts";
import { WardenError } from "../errors.ts";
import { type ApprovalStore, definitionDigest, diffDefinitions } from "./approvals.ts";
import type { Catalog } from "./serve.ts";
import { BoundedStdioClientTransport, isTooLarge } from "./stdio.ts";

export interface ExternalServer {
  /** The name tools are offered under: `<name>__<tool>`. */
  name: string;
  /** The tools a policy allows from this server; others are never offered, approved or not. Default: all. */
  allow?: readonly string[];
  /** A command to start over stdio, or a URL for Streamable HTTP. */
  command?: string;
  args?: string[];
  url?: string;
}

export interface Withheld {
  tool: string;
  reason: "not approved" | "changed since approval";
  /** For a changed tool: one line per changed part of its definition. */
  changes: string[];
  digest: string;
}

export interface FrontLimits {
  maxArgumentBytes: number;
  maxResultBytes: number;
  timeoutMs: number;
}

const DEFAULT_LIMITS: FrontLimits = { maxArgumentBytes: 1 << 20, maxResultBytes: 1 << 20, timeoutMs: 30_000 };

/**
 * A stdio server gets a minimal environment: no variable of Warden's own (API keys, tokens) reaches it.
 * It still runs as Warden's user, with Warden's file system and network; see the README.
 */
const MINIMAL_ENV = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"];

/**
 * What a stdio server is started through: `env -i` (the SDK would otherwise pass on HOME, USER, SHELL and
 * more from Warden's own environment), and where util-linux has them, no core dumps and no new privileges.
 * Not bubblewrap: an operator's server may need the network or files, which Warden cannot know.
 */
function stdioPrefix(): string[] {
  const prefix = ["/usr/bin/env", "-i", ...MINIMAL_ENV];
  const prlimit = systemTool("prlimit");
  if (prlimit) prefix.push(prlimit, "--core=0", "--");
  const setpriv = systemTool("setpriv");
  if (setpriv) prefix.push(setpriv, "--no-new-privs", "--");
  return prefix;
}

/** How people name a server: its command line or its URL. */
export function describeServer(server: ExternalServer): string {
  if (server.url) return server.url;
  return [server.command ?? "", ...(server.args ?? [])]
    .map((w) => (/^[\w./:@%+=,-]+$/.test(w) ? w : JSON.stringify(w)))
    .join(" ");
}

export interface Connection {
  client: Client;
  /** Why the connection ended, once it has: how a stdio server exited and what it said last. */
  ended(): string | undefined;
}

/**
 * Connects to a server and completes the MCP handshake. A server that cannot start, dies or does not answer
 * is a NET_ERROR naming the server, its command or URL, and why (its exit status and last stderr).
 */
export async function connectExternal(
  server: ExternalServer,
  limits: FrontLimits = DEFAULT_LIMITS,
): Promise<Connection> {
  const client = new Client({ name: "warden", version: "0.1.0" });
  let stdio: BoundedStdioClientTransport | undefined;
  let transport: Transport;
  if (server.command) {
    const [command, ...args] = [...stdioPrefix(), server.command, ...(server.args ?? [])];
    // A margin over the result limit for the JSON-RPC envelope: a result itself is measured in `call`.
    stdio = new BoundedStdioClientTransport({
      command: command!,
      args,
      env: Object.fromEntries(MINIMAL_ENV.map((v) => v.split("=", 2) as [string, string])),
      limit: limits.maxResultBytes + (64 << 10),
    });
    transport = stdio;
  } else if (server.url) {
    transport = new StreamableHTTPClientTransport(new URL(server.url));
  } else {
    throw new WardenError("USAGE", `external MCP server "${server.name}" needs a command or a url`);
  }
  let closed = false;
  const ended = () => stdio?.exitDescription() ?? (closed ? "the connection closed" : undefined);
  try {
    await client.connect(transport, { timeout: limits.timeoutMs });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw serverFailed(server, ended() ?? (error as Error).message);
  }
  const onclose = client.onclose;
  client.onclose = () => {
    closed = true;
    onclose?.();
  };
  return { client, ended };
}

function serverFailed(server: ExternalServer, why: string): WardenError {
  return new WardenError(
    "NET_ERROR",
    `MCP server "${server.name}" (${describeServer(server)}) failed: ${why.slice(0, 600)}`,
  );
}

/** Splits a server's current tools into approved ones and withheld ones, by comparing whole-definition digests. */
export function review(
  server: string,
  tools: McpTool[],
  approvals: ApprovalStore,
): { approved: McpTool[]; withheld: Withheld[] } {
  const approved: McpTool[] = [];
  const withheld: Withheld[] = [];
  for (const tool of tools) {
    const digest = definitionDigest(tool);
    const approval = approvals.get(server, tool.name);
    if (approval?.digest === digest) approved.push(tool);
    else if (!approval) withheld.push({ tool: tool.name, reason: "not approved", changes: [], digest });
    else
      withheld.push({
        tool: tool.name,
        reason: "changed since approval",
        changes: diffDefinitions(approval.definition, tool),
        digest,
      });
  }
  return { approved, withheld };
}

export interface FrontedCatalog extends Catalog {
  /** Every allowed tool the server offers now, as it describes it: what an operator reviews and approves. */
  definitions: McpTool[];
  withheld: Withheld[];
  close(): Promise<void>;
}

/** What happens to a fronted server during a session, for the operator (`mcp serve` prints it on stderr). */
export interface FrontEvents {
  /** A tool offered so far was withdrawn: its definition changed (or the server stopped listing it). */
  withheld?(withheld: Withheld): void;
  /** The server exited or its connection broke; all its tools were withdrawn. */
  failed?(why: string): void;
}

/** The tools of a server the policy allows, as the server lists them now (every page). */
async function listAllowed(client: Client, allowed: ReadonlySet<string> | undefined): Promise<McpTool[]> {
  const tools: McpTool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const listed = await client.listTools(cursor === undefined ? undefined : { cursor });
    tools.push(...listed.tools.filter((t) => !allowed || allowed.has(t.name)));
    cursor = listed.nextCursor;
    if (cursor === undefined) break;
  }
  return tools;
}

/**
 * The approved tools of one external server as a catalog. The definitions offered are the approved ones,
 * so nothing a server says about a tool reaches a model's context unless an operator approved it. During a
 * session the offer only shrinks: a tool whose definition changes (announced by `tools/list_changed`, or
 * seen in the listing taken before every call) is withdrawn at once, and clients are told the list changed.
 */
export async function frontServer(
  server: ExternalServer,
  approvals: ApprovalStore,
  audit: AuditLog,
  limits: FrontLimits = DEFAULT_LIMITS,
  events: FrontEvents = {},
): Promise<FrontedCatalog> {
  const { client, ended } = await connectExternal(server, limits);
  const allowed = server.allow ? new Set(server.allow) : undefined;
  let tools: McpTool[];
  try {
    tools = await listAllowed(client, allowed);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw serverFailed(server, ended() ?? (error as Error).message);
  }
  const { approved, withheld } = review(server.name, tools, approvals);
  const prefix = `${server.name}__`;
  const deny = (tool: string, reason: string) =>
    audit.record({
      event: "load",
      tool: `${prefix}${tool}`,
      sandbox: `mcp:${server.name}`,
      decision: "deny",
      reason,
    });
  for (const w of withheld) deny(w.tool, `${w.reason}${w.changes.length ? `: ${w.changes.join("; ")}` : ""}`);

  /** Offered now, by the name clients see, with the definition that was approved. */
  const offered = new Map(approved.map((t) => [`${prefix}${t.name}`, t]));
  /** Offered earlier in this session and withdrawn since: what a client that still calls one is told. */
  const gone = new Map<string, { code: string; why: string }>();
  const listeners = new Set<() => void>();
  let closing = false;
  let failure: string | undefined;
  let relisting: Promise<void> | undefined;
  /** Set while a list a server announced as changed is being checked: its tools are not listed meanwhile. */
  let announced = 0;

  const changed = () => {
    for (const listener of listeners) listener();
  };
  const withdraw = (name: string, reason: { code: string; why: string }) => {
    offered.delete(name);
    gone.set(name, reason);
  };
  const stopped = (why: string) => {
    if (failure !== undefined || closing) return;
    failure = why;
    for (const name of [...offered.keys()]) {
      withdraw(name, { code: "NET_ERROR", why: `the external server "${server.name}" stopped` });
    }
    audit.record({
      event: "load",
      tool: `${prefix}*`,
      sandbox: `mcp:${server.name}`,
      decision: "error",
      code: "NET_ERROR",
      reason: why,
    });
    events.failed?.(why);
    changed();
  };
  const onclose = client.onclose;
  client.onclose = () => {
    onclose?.();
    stopped(ended() ?? "the connection closed");
  };

  /** Lists the server's tools again and withdraws every offered tool whose definition is not the approved one. */
  const recheck = async (): Promise<void> => {
    let current: McpTool[];
    try {
      current = await listAllowed(client, allowed);
    } catch (error) {
      stopped(ended() ?? `listing its tools failed: ${(error as Error).message.slice(0, 200)}`);
      return;
    }
    let any = false;
    for (const [name, approvedTool] of [...offered]) {
      const now = current.find((t) => t.name === approvedTool.name);
      if (now && definitionDigest(now) === definitionDigest(approvedTool)) continue;
      const w: Withheld = now
        ? {
            tool: approvedTool.name,
            reason: "changed since approval",
            changes: diffDefinitions(approvedTool, now),
            digest: definitionDigest(now),
          }
        : {
            tool: approvedTool.name,
            reason: "changed since approval",
            changes: ["(definition): no longer listed"],
            digest: "",
          };
      withdraw(name, {
        code: "CAPABILITY_DENIED",
        why: "its definition changed since an operator approved it; it is withheld until approved again",
      });
      deny(w.tool, `${w.reason} during the session: ${w.changes.join("; ")}`);
      events.withheld?.(w);
      any = true;
    }
    if (any) changed();
  };
  const relist = (): Promise<void> => {
    const next = (relisting ?? Promise.resolve()).then(recheck);
    relisting = next;
    void next.finally(() => {
      if (relisting === next) relisting = undefined;
    });
    return next;
  };
  // A server announcing a change: until the new list is checked, its tools are neither listed nor called.
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    announced++;
    void relist().finally(() => {
      announced--;
      changed();
    });
  });

  const call = async (name: string, args: unknown, session: string): Promise<CallToolResult> => {
    const record = (decision: "allow" | "deny" | "error", reason?: string, code?: string) =>
      audit.record({
        event: "call",
        tool: name,
        sandbox: `mcp:${server.name}`,
        session,
        op: "tools/call",
        decision,
        reason,
        code,
      });
    const argsJson = JSON.stringify(args ?? {});
    if (Buffer.byteLength(argsJson) > limits.maxArgumentBytes) {
      record("deny", "arguments over the size limit", "LIMIT_EXCEEDED");
      return fail("LIMIT_EXCEEDED", `arguments are over ${limits.maxArgumentBytes} bytes`);
    }
    // The definition the server has now must still be the approved one, announced or not.
    await relist();
    const tool = offered.get(name);
    if (!tool) {
      const { code, why } = gone.get(name) ?? { code: "CAPABILITY_DENIED", why: "it is not offered" };
      record("deny", why, code);
      return fail(code, `tool "${name}" is withdrawn: ${why}`);
    }
    let result: CallToolResult;
    try {
      result = (await client.callTool(
        { name: tool.name, arguments: (args ?? {}) as Record<string, unknown> },
        undefined,
        { timeout: limits.timeoutMs },
      )) as CallToolResult;
    } catch (error) {
      if (isTooLarge(error)) {
        record("deny", "result over the size limit", "LIMIT_EXCEEDED");
        return fail("LIMIT_EXCEEDED", `the result is over ${limits.maxResultBytes} bytes`);
      }
      record("error", "the external server failed", "NET_ERROR");
      return fail(
        "NET_ERROR",
        `the external server "${server.name}" failed: ${(error as Error).message.slice(0, 200)}`,
      );
    }
    if (Buffer.byteLength(JSON.stringify(result)) > limits.maxResultBytes) {
      record("deny", "result over the size limit", "LIMIT_EXCEEDED");
      return fail("LIMIT_EXCEEDED", `the result is over ${limits.maxResultBytes} bytes`);
    }
    record("allow");
    return result;
  };

  return {
    definitions: tools,
    withheld,
    list: () => (announced > 0 ? [] : [...offered].map(([name, t]) => ({ ...t, name }))),
    // A tool never offered in this session is unknown; one withdrawn during it gets a tool error saying so.
    call: (name, args, session) =>
      offered.has(name) || gone.has(name) ? call(name, args, session) : undefined,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: async () => {
      closing = true;
      await client.close();
    },
  };
}

function fail(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: `${code}: ${message}` }] };
}
