// Fronting an external MCP server: Warden connects as a client and re-serves only the tools whose whole
// definition an operator approved; a tool that changed since its approval is withheld, with what changed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import type { AuditLog } from "../audit.ts";
import { systemTool } from "../cells/hardening.ts";
import { WardenError } from "../errors.ts";
import { type ApprovalStore, definitionDigest, diffDefinitions } from "./approvals.ts";
import type { Catalog } from "./serve.ts";

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

export async function connectExternal(server: ExternalServer): Promise<Client> {
  const client = new Client({ name: "warden", version: "0.1.0" });
  if (server.command) {
    const [command, ...args] = [...stdioPrefix(), server.command, ...(server.args ?? [])];
    await client.connect(new StdioClientTransport({ command: command!, args, stderr: "ignore" }));
  } else if (server.url) {
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
  } else {
    throw new WardenError("USAGE", `external MCP server "${server.name}" needs a command or a url`);
  }
  return client;
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

/**
 * The approved tools of one external server as a catalog. The definitions offered are the approved ones,
 * so nothing a server says about a tool reaches a model's context unless an operator approved it.
 */
export async function frontServer(
  server: ExternalServer,
  approvals: ApprovalStore,
  audit: AuditLog,
  limits: FrontLimits = DEFAULT_LIMITS,
): Promise<FrontedCatalog> {
  const client = await connectExternal(server);
  const allowed = server.allow ? new Set(server.allow) : undefined;
  const tools = (await client.listTools()).tools.filter((t) => !allowed || allowed.has(t.name));
  const { approved, withheld } = review(server.name, tools, approvals);
  for (const w of withheld) {
    audit.record({
      event: "load",
      tool: `${server.name}__${w.tool}`,
      sandbox: `mcp:${server.name}`,
      decision: "deny",
      reason: `${w.reason}${w.changes.length ? `: ${w.changes.join("; ")}` : ""}`,
    });
  }
  const offered = new Map(approved.map((t) => [`${server.name}__${t.name}`, t]));
  const listed = [...offered].map(([name, t]) => ({ ...t, name }));

  const call = async (name: string, args: unknown, session: string): Promise<CallToolResult> => {
    const tool = offered.get(name)!;
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
    let result: CallToolResult;
    try {
      result = (await client.callTool(
        { name: tool.name, arguments: (args ?? {}) as Record<string, unknown> },
        undefined,
        {
          timeout: limits.timeoutMs,
        },
      )) as CallToolResult;
    } catch (error) {
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
    list: () => listed,
    call: (name, args, session) => (offered.has(name) ? call(name, args, session) : undefined),
    close: () => client.close(),
  };
}

function fail(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: `${code}: ${message}` }] };
}
