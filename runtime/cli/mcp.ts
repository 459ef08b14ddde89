// `warden mcp serve|review|approve`: serve a policy's tools over MCP, and review and approve external servers' tools.
import { once } from "node:events";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { WardenError } from "../errors.ts";
import { ApprovalStore, definitionDigest } from "../mcp/approvals.ts";
import { type FrontedCatalog, frontServer } from "../mcp/front.ts";
import { serveHttp } from "../mcp/http.ts";
import { combine, createMcpServer, sandboxCatalog } from "../mcp/serve.ts";
import type { CompiledPolicy } from "../policy/compile.ts";
import { loadPolicyFor, loadToolUnderPolicy } from "../policy/run.ts";
import { createRuntime, type Runtime } from "../runtime.ts";
import type { Tool } from "../tool.ts";
import type { CliIo } from "./commands.ts";

interface Flags {
  policy: string;
  state: string;
  http?: string;
  host?: string;
  server?: string;
  tool: string[];
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
    },
  });
  if (positionals.length > 0)
    throw new WardenError("USAGE", `unexpected argument "${positionals[0]}"; see --help`);
  if (values.policy === undefined)
    throw new WardenError("USAGE", "--policy FILE is required: it names what may be served");
  return { ...values, policy: values.policy, state: resolve(values.state), tool: values.tool };
}

const approvalsIn = (state: string) => new ApprovalStore(join(state, "mcp-approvals.json"));

/** Connects to the external servers a policy names (or one of them) and sorts their allowed tools. */
async function frontAll(runtime: Runtime, policy: CompiledPolicy, approvals: ApprovalStore, only?: string) {
  const fronted: Array<{ name: string; catalog: FrontedCatalog }> = [];
  for (const server of policy.servers.values()) {
    if (only !== undefined && server.name !== only) continue;
    const [command, ...args] = server.command ?? [];
    const catalog = await frontServer(
      { name: server.name, command, args, url: server.url, allow: server.tools },
      approvals,
      runtime.kernel.audit,
    );
    fronted.push({ name: server.name, catalog });
  }
  if (only !== undefined && fronted.length === 0) {
    const names = [...policy.servers.keys()].join(", ") || "none";
    throw new WardenError("USAGE", `${policy.file} names no MCP server "${only}"; it names: ${names}`);
  }
  return fronted;
}

async function closeAll(fronted: Array<{ catalog: FrontedCatalog }>, runtime: Runtime): Promise<void> {
  for (const { catalog } of fronted) await catalog.close();
  await runtime.close();
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
    fronted = await frontAll(runtime, policy, approvalsIn(f.state));
    for (const { name, catalog } of fronted) {
      for (const w of catalog.withheld) {
        const changes = w.changes.map((c) => `\n    ${c}`).join("");
        io.stderr(`warden: withheld ${name}__${w.tool} (${w.reason})${changes}\n`);
      }
    }
    if (fronted.some(({ catalog }) => catalog.withheld.length > 0)) {
      io.stderr(
        `warden: review with warden mcp review --policy ${f.policy}, then approve with warden mcp approve\n`,
      );
    }
    const catalog = combine([sandboxCatalog(tools), ...fronted.map((x) => x.catalog)]);
    if (port === undefined) {
      // stdout is the protocol channel from here on: everything for people goes to stderr.
      const transport = new StdioServerTransport();
      const closed = new Promise<void>((done) => {
        transport.onclose = () => done();
      });
      await createMcpServer(catalog, { session: "stdio" }).connect(transport);
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
  let fronted: Array<{ name: string; catalog: FrontedCatalog }> = [];
  try {
    fronted = await frontAll(runtime, loadPolicyFor(runtime, f.policy), approvalsIn(f.state), f.server);
    for (const { name, catalog } of fronted) {
      const withheld = new Map(catalog.withheld.map((w) => [w.tool, w]));
      for (const tool of catalog.definitions) {
        const w = withheld.get(tool.name);
        io.stdout(`${w?.reason ?? "approved"}: ${name}__${tool.name} ${definitionDigest(tool)}\n`);
        for (const change of w?.changes ?? []) io.stdout(`    ${change}\n`);
        if (w?.reason === "not approved")
          io.stdout(`    description: ${JSON.stringify(tool.description ?? "")}\n`);
      }
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
    fronted = await frontAll(runtime, loadPolicyFor(runtime, f.policy), approvals, f.server);
    const { catalog } = fronted[0]!;
    for (const name of f.tool) {
      if (!catalog.definitions.some((t) => t.name === name)) {
        throw new WardenError("USAGE", `server "${f.server}" offers no allowed tool "${name}"`);
      }
    }
    const pending = catalog.withheld.filter((w) => f.tool.length === 0 || f.tool.includes(w.tool));
    for (const w of pending) {
      const approval = approvals.approve(f.server, catalog.definitions.find((t) => t.name === w.tool)!);
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

export const MCP_SERVE_HELP = `warden mcp serve: serve a policy's tools to MCP clients.

Usage:
  warden mcp serve --policy FILE [--state DIR] [--http PORT [--host HOST]]

Speaks MCP over stdio (the default) or Streamable HTTP at http://127.0.0.1:PORT/mcp (--http; loopback
unless --host says otherwise; PORT 0 picks a free port, printed on stderr). Offers exactly the tools the
policy names, each in its sandbox with its grants and limits, and the approved tools of the MCP servers
the policy names, as SERVER__TOOL. A tool of an external server whose definition changed since it was
approved is withheld (say so on stderr) until it is approved again. Every call is audited with the
client's name and session.
`;

export const MCP_REVIEW_HELP = `warden mcp review: show each external tool a policy allows, and whether its definition is approved.

Usage:
  warden mcp review --policy FILE [--state DIR]

For a tool that changed since its approval, prints what changed, one line per part of its definition.
`;

export const MCP_APPROVE_HELP = `warden mcp approve: approve the current definitions of an external server's tools.

Usage:
  warden mcp approve --policy FILE --server NAME [--tool NAME]... [--state DIR]

Approves every allowed tool of the server that is not approved as it is now (or only the named ones),
printing each one's digest and what changed. Review first: warden mcp review --policy FILE.
`;
