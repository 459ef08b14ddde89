// The runtime the agent commands work through: its state directory's sessions, and a policy's agents when one is given.
import { WardenError } from "../errors.ts";
import type { ServedAgent } from "../mcp/agents.ts";
import type { AgentSpec } from "../policy/agents.ts";
import type { CompiledPolicy } from "../policy/compile.ts";
import { loadPolicyFor } from "../policy/run.ts";
import { createRuntime, type Runtime } from "../runtime.ts";

export interface ShownMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: unknown;
  tool_calls?: unknown[];
  tool_call_id?: string;
}

export interface ShownSession {
  session: string;
  agent: string;
  status: string;
  messages: ShownMessage[];
  children: unknown[];
}

/** The host API the commands use (`runtime.agents`, as AGENTS-DESIGN.md fixes it). */
export interface AgentHost {
  define(spec: AgentSpec): void;
  run(
    name: string,
    input: { task: string; parent?: string },
    options?: { signal?: AbortSignal; onProgress?: (event: unknown) => void },
  ): Promise<{ session: string; answer: string }>;
  list(): Promise<Array<{ session: string; agent: string; status: string; parent: string | null }>>;
  show(session: string): Promise<ShownSession>;
  resume(session: string, options: { model?: string }): Promise<{ session: string; answer: string }>;
  replay(session: string): Promise<{
    session: string;
    matched: boolean;
    steps: Array<{ kind: string; index: number; matched: boolean; detail?: string }>;
  }>;
}

/** The runtime's agent host; until the kernel side lands, a runtime without one is refused plainly. */
export function agentsOf(runtime: Runtime): AgentHost {
  const agents = (runtime as unknown as { agents?: AgentHost }).agents;
  if (!agents) throw new WardenError("USAGE", "this build of Warden has no agents");
  return agents;
}

/** Every agent a policy names, defined on the runtime (its tools are the policy's, with their grants). */
export function defineAgents(runtime: Runtime, policy: CompiledPolicy): ServedAgent[] {
  if (policy.agents.size === 0) return [];
  const agents = agentsOf(runtime);
  for (const agent of policy.agents.values()) agents.define(agent.spec);
  return [...policy.agents.values()].map((agent) => ({
    name: agent.name,
    description: agent.spec.description,
    run: (task, options) => agents.run(agent.name, { task }, options),
  }));
}

/**
 * Runs `fn` with a runtime over the state directory's sessions. Without a policy (ps, show) it reads the
 * session store only: no agent is defined, nothing runs.
 */
export async function withAgents<T>(
  options: { state: string; policy?: string | undefined },
  fn: (agents: AgentHost) => Promise<T>,
): Promise<T> {
  const runtime = createRuntime({ stateDir: options.state, cells: { spares: 0 } });
  try {
    if (options.policy !== undefined) defineAgents(runtime, loadPolicyFor(runtime, options.policy));
    return await fn(agentsOf(runtime));
  } finally {
    await runtime.close();
  }
}
