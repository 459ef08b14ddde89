// `warden mcp serve|review|approve`: serve a policy's tools over MCP, and review and approve external servers' tools.
import { once } from "node:events";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { WardenError } from "../errors.ts";
import { agentCatalog } from "../mcp/agents.ts";
import { ApprovalStore, definitionDigest, diffDefinitions, ReviewStore } from "../mcp/approvals.ts";
import {
  type ExternalServer,
  type FrontEvents,
  type FrontedCatalog,
  frontServer,
  type Withheld,
} from "../mcp/front.ts";
import { serveHttp } from "../mcp/http.ts";
import { combine, createMcpServer, sandboxCatalog } from "../mcp/serve.ts";
import { BoundedStdioServerTransport } from "../mcp/stdio.ts";
import type { CompiledPolicy } from "../policy/compile.ts";
import { loadPolicyFor, loadToolUnderPolicy } from "../policy/run.ts";
import { createRuntime, type Runtime } from "../runtime.ts";
import type { Tool } from "../tool.ts";
import { provideFrontedTools, servedAgents } from "./agent-host.ts";
import type { CliIo } from "./commands.ts";

interface Flags {
  policy: string;
  state: string;
  http?: string;
  host?: string;
  server?: string;
  tool: string[];
  digest: string[];
}

function flags(argv: string[]): Flags {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      policy: { type: "string" },
      state: { type: "string", default: ".warden" },
      http: { type: "string" },
      host: { type: "string" },
      server: { type: "string" },
      tool: { type: "string", multiple: true, default: [] },
      digest: { type: "string", multiple: true, default: [] },
    },
  });
  if (positionals.length > 0)
    throw new WardenError("USAGE", `unexpected argument "${positionals[0]}"; see --help`);
  if (values.policy === undefined)
    throw new WardenError("USAGE", "--policy FILE is required: it names what may be served");
  return {
    ...values,
    policy: values.policy,
    state: resolve(values.state),
    tool: values.tool,
    digest: values.digest,
  };
}

const approvalsIn = (state: string) => new ApprovalStore(join(state, "mcp-approvals.json"));
const reviewsIn = (state: string) => new ReviewStore(join(state, "mcp-reviews.json"));

/** A word for a shell command line: quoted when it holds anything a shell would read differently. */
function shellWord(word: string): string {
  return /^[\w./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** The exact commands that review a server's tools, and approve what the review printed. */
function reviewCommands(f: Flags, server: string, digests: readonly string[]): string {
  const common = `--policy ${shellWord(resolve(f.policy))} --state ${shellWord(f.state)} --server ${shellWord(server)}`;
  const approve = digests.map((d) => ` --digest ${d}`).join("");
  return (
    `warden: to offer ${server}'s withheld tools, review them: warden mcp review ${common}\n` +
    `warden: then approve what the review printed: warden mcp approve ${common}${approve}\n`
  );
}

interface Failed {
  name: string;
  error: WardenError;
}

/**
 * Connects to the external servers a policy names (or one of them) and sorts their allowed tools. A server
 * that cannot start or answer is listed in `failed`, naming it and its command, and the others still serve.
 */
async function frontAll(
  runtime: Runtime,
  policy: CompiledPolicy,
  approvals: ApprovalStore,
  only?: string,
  events: (server: string) => FrontEvents = () => ({}),
) {
  const fronted: Array<{ name: string; catalog: FrontedCatalog }> = [];
  const failed: Failed[] = [];
  if (only !== undefined && !policy.servers.has(only)) {
    const names = [...policy.servers.keys()].join(", ") || "none";
    throw new WardenError("USAGE", `${policy.file} names no MCP server "${only}"; it names: ${names}`);
  }
  for (const server of policy.servers.values()) {
    if (only !== undefined && server.name !== only) continue;
    const [command, ...args] = server.command ?? [];
    const external: ExternalServer = {
      name: server.name,
      command,
      args,
      url: server.url,
      allow: server.tools,
    };
    try {
      const catalog = await frontServer(
        external,
        approvals,
        runtime.kernel.audit,
        undefined,
        events(server.name),
      );
      fronted.push({ name: server.name, catalog });
    } catch (error) {
      if (!(error instanceof WardenError)) throw error;
      failed.push({ name: server.name, error });
      runtime.kernel.audit.record({
        event: "load",
        tool: `${server.name}__*`,
        sandbox: `mcp:${server.name}`,
        decision: "error",
        code: error.code,
        reason: error.message,
      });
    }
  }
  return { fronted, failed };
}

function printWithheld(io: CliIo, server: string, w: Withheld, when = ""): void {
  const changes = w.changes.map((c) => `\n    ${c}`).join("");
  io.stderr(`warden: withheld ${server}__${w.tool} (${w.reason}${when})${changes}\n`);
}

async function closeAll(fronted: Array<{ catalog: FrontedCatalog }>, runtime: Runtime): Promise<void> {
  for (const { catalog } of fronted) await catalog.close();
  await runtime.close();
}

/**
 * Connects the servers whose tools (SERVER__TOOL) a policy's agents name, as `mcp serve` does (only approved
 * tools, with their pinned definitions), and offers those tools to the agents. What is withheld or fails is
 * said on stderr; the agent that names such a tool is then refused when it runs. Returns what closes them.
 */
export async function frontForAgents(
  runtime: Runtime,
  policy: CompiledPolicy,
  state: string,
  io: CliIo,
): Promise<() => Promise<void>> {
  const named = new Set(
    [...policy.agents.values()]
      .flatMap((a) => a.spec.tools)
      .filter((tool) => !policy.tools.has(tool))
      .map((tool) => tool.split("__")[0]!),
  );
  const fronted: Array<{ name: string; catalog: FrontedCatalog }> = [];
  const approvals = approvalsIn(state);
  const close = async () => {
    for (const { catalog } of fronted) await catalog.close();
  };
  try {
    for (const server of policy.servers.keys()) {
      if (!named.has(server)) continue;
      const started = await frontAll(runtime, policy, approvals, server);
      fronted.push(...started.fronted);
      for (const { error } of started.failed)
        io.stderr(`warden: ${error.message}; running without its tools\n`);
    }
    for (const { name, catalog } of fronted) for (const w of catalog.withheld) printWithheld(io, name, w);
  } catch (error) {
    await close();
    throw error;
  }
  provideFrontedTools(
    runtime,
    policy,
    fronted.map((x) => x.catalog),
  );
  return close;
}

export async function mcpServe(argv: string[], io: CliIo): Promise<void> {
  const f = flags(argv);
  const port = f.http === undefined ? undefined : Number(f.http);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new WardenError("USAGE", `--http takes a port number (0 picks a free one), got "${f.http}"`);
  }
  const runtime = createRuntime({
    stateDir: f.state,
    log: ({ level, message, owner }) => io.stderr(`[${owner}] ${level}: ${JSON.stringify(message)}\n`),
  });
  let fronted: Array<{ name: string; catalog: FrontedCatalog }> = [];
  try {
    const policy = loadPolicyFor(runtime, f.policy);
    const tools: Tool[] = [];
    for (const name of policy.tools.keys()) tools.push(await loadToolUnderPolicy(runtime, policy, name));
    const agents = await servedAgents(runtime, policy, new Set(policy.tools.keys()));
    const during = (server: string): FrontEvents => ({
      withheld: (w) => {
        printWithheld(io, server, w, " during the session");
        io.stderr(reviewCommands(f, server, w.digest ? [w.digest] : []));
      },
      failed: (why) =>
        io.stderr(`warden: MCP server "${server}" stopped (${why}); its tools are withdrawn\n`),
    });
    const started = await frontAll(runtime, policy, approvalsIn(f.state), undefined, during);
    fronted = started.fronted;
    for (const { error } of started.failed)
      io.stderr(`warden: ${error.message}; serving without its tools\n`);
    for (const { name, catalog } of fronted) {
      for (const w of catalog.withheld) printWithheld(io, name, w);
      if (catalog.withheld.length > 0)
        io.stderr(
          reviewCommands(
            f,
            name,
            catalog.withheld.map((w) => w.digest),
          ),
        );
    }
    provideFrontedTools(
      runtime,
      policy,
      fronted.map((x) => x.catalog),
    );
    const catalog = combine([sandboxCatalog(tools), agentCatalog(agents), ...fronted.map((x) => x.catalog)]);
    if (port === undefined) {
      // stdout is the protocol channel from here on: everything for people goes to stderr.
      const transport = new BoundedStdioServerTransport();
      const closed = new Promise<void>((done) => {
        transport.onclose = () => done();
      });
      const server = createMcpServer(catalog, { session: "stdio" });
      server.onerror = (error) => io.stderr(`warden: ${error.message}\n`);
      await server.connect(transport);
      await Promise.race([closed, once(process.stdin, "end")]);
    } else {
      const served = await serveHttp(catalog, { port, host: f.host, internal: runtime.kernel.internal });
      io.stderr(`warden: serving MCP at ${served.url}\n`);
      await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]);
      await served.close();
    }
  } finally {
    await closeAll(fronted, runtime);
  }
}

export async function mcpReview(argv: string[], io: CliIo): Promise<void> {
  const f = flags(argv);
  const runtime = createRuntime({ stateDir: f.state });
  const reviews = reviewsIn(f.state);
  let fronted: Array<{ name: string; catalog: FrontedCatalog }> = [];
  try {
    const started = await frontAll(runtime, loadPolicyFor(runtime, f.policy), approvalsIn(f.state), f.server);
    fronted = started.fronted;
    for (const { name, catalog } of fronted) {
      const withheld = new Map(catalog.withheld.map((w) => [w.tool, w]));
      for (const tool of catalog.definitions) {
        const w = withheld.get(tool.name);
        io.stdout(`${w?.reason ?? "approved"}: ${name}__${tool.name} ${definitionDigest(tool)}\n`);
        for (const change of w?.changes ?? []) io.stdout(`    ${change}\n`);
        if (w?.reason === "not approved")
          io.stdout(`    description: ${JSON.stringify(tool.description ?? "")}\n`);
      }
      // What was shown is what `mcp approve` (without --digest) will approve, and nothing else.
      reviews.record(name, catalog.definitions);
    }
    for (const { error } of started.failed) io.stdout(`failed: ${error.message}\n`);
    if (started.failed.length > 0) {
      const names = started.failed.map((x) => `"${x.name}"`).join(", ");
      throw new WardenError(
        "NET_ERROR",
        `${started.failed.length === 1 ? "MCP server" : "MCP servers"} ${names} could not be reviewed: see the failed lines above`,
      );
    }
  } finally {
    await closeAll(fronted, runtime);
  }
}

export async function mcpApprove(argv: string[], io: CliIo): Promise<void> {
  const f = flags(argv);
  if (f.server === undefined)
    throw new WardenError("USAGE", "--server NAME is required: approvals are per server");
  const runtime = createRuntime({ stateDir: f.state });
  const approvals = approvalsIn(f.state);
  let fronted: Array<{ name: string; catalog: FrontedCatalog }> = [];
  try {
    const started = await frontAll(runtime, loadPolicyFor(runtime, f.policy), approvals, f.server);
    fronted = started.fronted;
    if (started.failed[0]) throw started.failed[0].error;
    const { catalog } = fronted[0]!;
    for (const name of f.tool) {
      if (!catalog.definitions.some((t) => t.name === name)) {
        throw new WardenError("USAGE", `server "${f.server}" offers no allowed tool "${name}"`);
      }
    }
    const chosen = catalog.withheld.filter((w) => f.tool.length === 0 || f.tool.includes(w.tool));
    const pending = approvable(f, catalog, chosen, reviewsIn(f.state));
    for (const { w, definition } of pending) {
      const approval = approvals.approve(f.server, definition);
      const changes = w.changes.map((c) => `\n    ${c}`).join("");
      io.stdout(`approved ${f.server}__${w.tool} ${approval.digest}${changes}\n`);
      runtime.kernel.audit.record({
        event: "policy",
        tool: `${f.server}__${w.tool}`,
        sandbox: `mcp:${f.server}`,
        summary: `approved ${approval.digest}`,
        decision: "allow",
      });
    }
    if (pending.length === 0) io.stdout("nothing to approve: every allowed tool matches its approval\n");
  } finally {
    await closeAll(fronted, runtime);
  }
}

/**
 * The definitions to approve: exactly those whose digests were given, or else exactly what the last review
 * printed. A server that now offers anything else is refused (TOOL_CHANGED), and nothing is approved.
 */
function approvable(
  f: Flags,
  catalog: FrontedCatalog,
  chosen: Withheld[],
  reviews: ReviewStore,
): Array<{ w: Withheld; definition: McpTool }> {
  const server = f.server!;
  const again = `review it again: warden mcp review --policy ${shellWord(resolve(f.policy))} --state ${shellWord(f.state)} --server ${shellWord(server)}`;
  const definitionOf = (tool: string) => catalog.definitions.find((t) => t.name === tool)!;
  if (f.digest.length > 0) {
    const offered = catalog.definitions.map((t) => `${t.name} ${definitionDigest(t)}`).join(", ");
    for (const digest of f.digest) {
      if (!catalog.definitions.some((t) => definitionDigest(t) === digest)) {
        throw new WardenError(
          "TOOL_CHANGED",
          `server "${server}" offers no allowed tool whose definition has digest ${digest} now (it offers: ${offered || "none"}); nothing was approved; ${again}`,
        );
      }
    }
    return chosen
      .filter((w) => f.digest.includes(w.digest))
      .map((w) => ({ w, definition: definitionOf(w.tool) }));
  }
  const problems: string[] = [];
  for (const w of chosen) {
    const reviewed = reviews.get(server, w.tool);
    if (!reviewed) problems.push(`${server}__${w.tool} was not reviewed`);
    else if (reviewed.digest !== w.digest) {
      const changes = diffDefinitions(reviewed.definition, definitionOf(w.tool)).join("; ");
      problems.push(
        `${server}__${w.tool} is not what the review printed (${reviewed.digest}); the server now offers ${w.digest}: ${changes}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new WardenError("TOOL_CHANGED", `${problems.join("; ")}; nothing was approved; ${again}`);
  }
  return chosen.map((w) => ({ w, definition: definitionOf(w.tool) }));
}

export const MCP_SERVE_HELP = `warden mcp serve: serve a policy's tools to MCP clients.

Usage:
  warden mcp serve --policy FILE [--state DIR] [--http PORT [--host HOST]]

Speaks MCP over stdio (the default) or Streamable HTTP at http://127.0.0.1:PORT/mcp (--http; loopback
unless --host says otherwise; PORT 0 picks a free port, printed on stderr). Offers exactly the tools the
policy names, each in its sandbox with its grants and limits, and the approved tools of the MCP servers
the policy names, as SERVER__TOOL, and the policy's agents: each a tool that takes {"task": "..."} and
returns the agent's answer (and its session id), sending progress notifications while it runs when the
client asks for them (a progressToken). A tool of an external server whose definition changed since it was
approved is withheld (say so on stderr) until it is approved again. Every call is audited with the
client's name and session.
`;

export const MCP_REVIEW_HELP = `warden mcp review: show each external tool a policy allows, and whether its definition is approved.

Usage:
  warden mcp review --policy FILE [--state DIR] [--server NAME]

Prints each tool's digest; for a tool that changed since its approval, what changed, one line per part of
its definition. What it printed is recorded in DIR, so that \`warden mcp approve\` approves exactly that. A
server that cannot start or answer is named with its command (exit code 1); the others are still reviewed.
`;

export const MCP_APPROVE_HELP = `warden mcp approve: approve the current definitions of an external server's tools.

Usage:
  warden mcp approve --policy FILE --server NAME [--tool NAME]... [--digest DIGEST]... [--state DIR]

Approves what \`warden mcp review\` printed: each allowed tool of the server that is not approved as it is
now (or only the named ones), printing each one's digest and what changed. If the server now describes a
tool otherwise than the review printed, nothing is approved (TOOL_CHANGED): review again. With --digest,
approves exactly the definitions with those digests (as review printed them), and refuses if the server
no longer offers one of them.
`;
