// `warden agent run|ps|show|resume|replay`: start an agent under a policy, and see, continue or replay its sessions.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { WardenError } from "../errors.ts";
import { absoluteBody, modelBody } from "../policy/agents.ts";
import type { CompiledPolicy } from "../policy/compile.ts";
import type { Runtime } from "../runtime.ts";
import { type AgentHost, withAgents } from "./agent-host.ts";
import { frontForAgents } from "./mcp.ts";

type ShownSession = Awaited<ReturnType<AgentHost["show"]>>;

import type { CliIo } from "./commands.ts";

/** The policy's MCP servers whose tools its agents name, connected as `mcp serve` connects them. */
const fronting = (state: string, io: CliIo) => ({
  front: (runtime: Runtime, policy: CompiledPolicy) => frontForAgents(runtime, policy, state, io),
});

function one(command: string, positionals: string[], what: string): string {
  if (positionals.length !== 1) {
    throw new WardenError(
      "USAGE",
      `warden agent ${command} takes one ${what}, got ${positionals.length}; see warden agent ${command} --help`,
    );
  }
  return positionals[0]!;
}

const json = (value: unknown) => `${JSON.stringify(value)}\n`;

function readTask(raw: string | undefined): string {
  if (raw === undefined)
    throw new WardenError("USAGE", "--task TEXT is required: it is the agent's first user message");
  const task = raw === "-" ? readFileSync(0, "utf8") : raw;
  if (task.trim() === "") throw new WardenError("USAGE", "--task is empty; give the agent something to do");
  return task;
}

export async function agentRun(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      policy: { type: "string" },
      task: { type: "string" },
      state: { type: "string", default: ".warden" },
    },
  });
  const name = one("run", positionals, "agent NAME");
  if (values.policy === undefined)
    throw new WardenError("USAGE", "--policy FILE is required: the policy says what the agent may hold");
  const task = readTask(values.task);
  const state = resolve(values.state);
  await withAgents(
    { state, policy: values.policy, running: name, ...fronting(state, io) },
    async (agents) => {
      const { session, answer } = await agents.run(name, { task });
      io.stdout(json({ session, answer }));
    },
  );
}

export async function agentResume(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      state: { type: "string", default: ".warden" },
      model: { type: "string" },
      policy: { type: "string" },
    },
  });
  const id = one("resume", positionals, "SESSION");
  const state = resolve(values.state);
  await withAgents({ state, policy: values.policy, session: id, ...fronting(state, io) }, async (agents) => {
    // A scripted model's file is made absolute here, so the session's model does not depend on a cwd.
    const model =
      values.model === undefined ? {} : { model: absoluteBody(modelBody(values.model), process.cwd()) };
    const { session, answer } = await agents.resume(id, model);
    io.stdout(json({ session, answer }));
  });
}

export async function agentReplay(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { state: { type: "string", default: ".warden" }, policy: { type: "string" } },
  });
  const id = one("replay", positionals, "SESSION");
  const state = resolve(values.state);
  await withAgents({ state, policy: values.policy, session: id, ...fronting(state, io) }, async (agents) => {
    const report = await agents.replay(id);
    io.stdout(json(report));
    if (!report.matched) {
      const first = report.steps.find((s) => !s.matched);
      throw new WardenError(
        "REPLAY_MISMATCH",
        `session ${id} did not replay as journaled: ${first ? `${first.kind} step ${first.index} differs${first.detail ? ` (${first.detail})` : ""}` : "the steps differ"}`,
      );
    }
  });
}

export async function agentPs(argv: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: { state: { type: "string", default: ".warden" }, json: { type: "boolean", default: false } },
  });
  // Reading must not create a state directory: none means no sessions.
  if (!existsSync(resolve(values.state))) return io.stdout(values.json ? json([]) : psTable([]));
  await withAgents({ state: resolve(values.state) }, async (agents) => {
    const sessions = (await agents.list()).map(({ session, agent, status, parent }) => ({
      session,
      agent,
      status,
      parent,
    }));
    if (values.json) return io.stdout(json(sessions));
    io.stdout(psTable(sessions));
  });
}

export async function agentShow(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { state: { type: "string", default: ".warden" }, json: { type: "boolean", default: false } },
  });
  const id = one("show", positionals, "SESSION");
  if (!existsSync(resolve(values.state)))
    throw new WardenError(
      "NOT_FOUND",
      `no session ${JSON.stringify(id.slice(0, 64))}: ${values.state} holds none`,
    );
  await withAgents({ state: resolve(values.state) }, async (agents) => {
    const shown = shape(await agents.show(id));
    io.stdout(values.json ? json(shown) : transcript(shown));
  });
}

/** Exactly the fields the issue fixes, in its order, whatever else the host API returns. */
function shape(s: ShownSession): ShownSession {
  return {
    session: s.session,
    agent: s.agent,
    status: s.status,
    messages: s.messages.map((m) => ({
      role: m.role,
      content: m.content,
      ...(m.tool_calls === undefined ? {} : { tool_calls: m.tool_calls }),
      ...(m.tool_call_id === undefined ? {} : { tool_call_id: m.tool_call_id }),
    })),
    children: s.children,
  };
}

type Row = { session: string; agent: string; status: string; parent: string | null };

function psTable(rows: Row[]): string {
  if (rows.length === 0) return "no sessions\n";
  const header: Row = { session: "SESSION", agent: "AGENT", status: "STATUS", parent: "PARENT" };
  const all = [header, ...rows];
  const width = (key: keyof Row) => Math.max(...all.map((r) => String(r[key] ?? "-").length));
  const [ws, wa, wt] = [width("session"), width("agent"), width("status")];
  return all
    .map((r) =>
      `${r.session.padEnd(ws)}  ${r.agent.padEnd(wa)}  ${r.status.padEnd(wt)}  ${r.parent ?? "-"}`.trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

function transcript(s: ShownSession): string {
  const lines = [`session ${s.session}: agent ${s.agent}, ${s.status}`];
  for (const m of s.messages) {
    const id = m.tool_call_id ? ` (${m.tool_call_id})` : "";
    lines.push(`[${m.role}${id}] ${m.content}`);
    for (const call of m.tool_calls ?? []) lines.push(`  -> ${JSON.stringify(call)}`);
  }
  if (s.children.length > 0) lines.push(`children: ${JSON.stringify(s.children)}`);
  return `${lines.join("\n")}\n`;
}
