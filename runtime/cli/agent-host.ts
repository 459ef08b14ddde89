// The runtime the agent commands work through: its state directory's sessions, and a policy's agents when one is given.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { WardenError } from "../errors.ts";
import { frontedTool, type ServedAgent } from "../mcp/agents.ts";
import type { Catalog } from "../mcp/serve.ts";
import type { CompiledPolicy } from "../policy/compile.ts";
import { defineAgentsUnderPolicy, loadPolicyFor } from "../policy/run.ts";
import { createRuntime, type Runtime } from "../runtime.ts";

/** The host API the commands use: `runtime.agents` (runtime/agents/runner.ts). */
export type AgentHost = Runtime["agents"];

/** Every agent a policy names, defined on the runtime, as MCP serves them (a task in, the answer out). */
export async function servedAgents(
  runtime: Runtime,
  policy: CompiledPolicy,
  loaded: Set<string>,
): Promise<ServedAgent[]> {
  await defineAgentsUnderPolicy(runtime, policy, loaded);
  return [...policy.agents.values()].map((agent) => ({
    name: agent.name,
    description: agent.spec.description,
    run: (task, options) => runtime.agents.run(agent.name, { task }, options),
  }));
}

/** The SERVER__TOOL tools a policy's agents call, from the fronted servers that offer them now. */
export function provideFrontedTools(
  runtime: Runtime,
  policy: CompiledPolicy,
  fronted: readonly Catalog[],
): void {
  if (policy.agents.size === 0) return;
  const agents = runtime.agents;
  const wanted = new Set([...policy.agents.values()].flatMap((a) => a.spec.tools));
  for (const name of wanted) {
    if (policy.tools.has(name)) continue;
    for (const catalog of fronted) {
      const target = frontedTool(catalog, name);
      if (target) {
        agents.provideTool(name, target);
        break;
      }
    }
  }
}

// Which policy each agent was last run under, per state directory: what resume and replay load when not
// given --policy. Written (and fsynced) before the session starts, so a kernel killed mid-session leaves it.
const POLICIES_FILE = "agent-policies.json";
const recordSchema = z.record(z.string(), z.string());

function readPolicies(state: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(join(state, POLICIES_FILE), "utf8");
  } catch {
    return {};
  }
  const parsed = recordSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : {};
}

function recordPolicy(state: string, agent: string, policy: string): void {
  const all = { ...readPolicies(state), [agent]: resolve(policy) };
  const file = join(state, POLICIES_FILE);
  const fd = openSync(`${file}.tmp`, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(all, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
}

export interface AgentsOptions {
  state: string;
  policy?: string | undefined;
  /** The agent `run` starts: its policy is recorded for resume and replay. */
  running?: string;
  /** The session resume or replay continues: without --policy, the policy its agent last ran under. */
  session?: string;
  /**
   * Connects the MCP servers whose tools the policy's agents name, before any session opens (cli/mcp.ts's
   * frontForAgents, the same path `mcp serve` takes); returns what closes them.
   */
  front?: (runtime: Runtime, policy: CompiledPolicy) => Promise<() => Promise<void>>;
}

/**
 * Runs `fn` with a runtime over the state directory's sessions. Without a policy (ps, show) it reads the
 * session store only: no agent is defined, nothing runs.
 */
export async function withAgents<T>(
  options: AgentsOptions,
  fn: (agents: AgentHost) => Promise<T>,
): Promise<T> {
  const runtime = createRuntime({ stateDir: options.state, cells: { spares: 0 } });
  let unfront: (() => Promise<void>) | undefined;
  try {
    const agents = runtime.agents;
    let policy = options.policy;
    if (policy === undefined && options.session !== undefined) {
      const session = (await agents.list()).find((s) => s.session === options.session);
      if (session) policy = readPolicies(options.state)[session.agent];
      if (session && policy === undefined)
        throw new WardenError(
          "USAGE",
          `no policy is recorded for agent "${session.agent}" in this state directory; pass --policy FILE, the policy that defines it`,
        );
    }
    if (policy !== undefined) {
      const compiled = loadPolicyFor(runtime, policy);
      if (options.running !== undefined && !compiled.agents.has(options.running)) {
        const names = [...compiled.agents.keys()];
        throw new WardenError(
          "CAPABILITY_DENIED",
          `${policy} names no agent "${options.running}", so it does not run under it; it names: ${names.join(", ") || "none"}`,
        );
      }
      await defineAgentsUnderPolicy(runtime, compiled);
      unfront = await options.front?.(runtime, compiled);
      if (options.running !== undefined) recordPolicy(options.state, options.running, policy);
    }
    return await fn(agents);
  } finally {
    await unfront?.();
    await runtime.close();
  }
}
