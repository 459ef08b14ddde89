// `policy explain`: what each tool may do and may not, in plain words, from the compiled policy.
import { GRANTABLE_KINDS } from "../capabilities/index.ts";
import type { Limits } from "../isolates/types.ts";
import type { CompiledAgent, Overflow } from "./agents.ts";
import type { CompiledPolicy, CompiledTool } from "./compile.ts";

export function list(words: readonly string[], last = "and"): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${last} ${words.at(-1)}`;
}

export function describeLimits(limits: Limits): string {
  return `${limits.timeoutMs} ms wall time, ${limits.cpuMs} ms CPU, ${limits.memoryMb} MiB heap, ${limits.outputKb} KiB output`;
}

export function explainTool(tool: CompiledTool): string {
  const pin = tool.digest
    ? `pinned ${tool.digest.slice(0, 19)}…`
    : "not pinned: whatever code is at that path runs";
  const lines = [`Tool "${tool.name}" (${tool.sourceShown}; backend ${tool.backend ?? "default"}; ${pin})`];
  lines.push("  It may:");
  if (tool.grants.length === 0) lines.push("    - nothing beyond computing on its input: it gets no handles");
  for (const g of tool.grants) lines.push(`    - ${g.handle} (${g.kind.kind}): ${g.kind.describe(g.grant)}`);
  lines.push("  It may not:");
  for (const g of tool.grants) {
    const missing = g.kind.rights.filter((r) => !g.grant.rights.includes(r));
    if (missing.length > 0) lines.push(`    - ${g.handle}: ${list(missing, "or")} (not granted)`);
  }
  const absent = GRANTABLE_KINDS.filter((k) => !tool.grants.some((g) => g.kind.kind === k.name));
  if (absent.length > 0)
    lines.push(
      `    - ${list(
        absent.map((k) => k.words),
        "or",
      )} (no such handle)`,
    );
  lines.push("    - reach anything outside its handles: every other directory, origin and store is denied");
  lines.push(`  Limits per call: ${describeLimits(tool.limits)}.`);
  return lines.join("\n");
}

const OVERFLOW_WORDS: Record<Overflow, string> = {
  refuse: "the session is refused (LIMIT_EXCEEDED)",
  "drop-tool-results": "the oldest tool results are dropped",
  summarise: "the conversation is summarised through its model",
};

/** An agent's budgets in words; each one ends the session when spent. */
export function describeAgentLimits(agent: CompiledAgent): string {
  const l = agent.spec.limits ?? {};
  const parts = [
    l.turns === undefined ? "" : `${l.turns} turns`,
    l.tokens === undefined ? "" : `${l.tokens} tokens`,
    l.cost === undefined ? "" : `$${l.cost}`,
    l.wallMs === undefined ? "" : `${l.wallMs} ms wall time`,
  ].filter((p) => p !== "");
  const overflow = OVERFLOW_WORDS[agent.spec.context?.overflow ?? "refuse"];
  const context =
    l.contextTokens === undefined
      ? ""
      : `; its conversation may grow to ${l.contextTokens} tokens, then ${overflow} (the instructions are never cut)`;
  return `${parts.length ? parts.join(", ") : "none beyond its model grant's"}${context}`;
}

export function explainAgent(agent: CompiledAgent): string {
  const program = agent.sourceShown ? `its program ${agent.sourceShown}` : "the standard loop";
  const backend = agent.spec.backend ?? "default";
  const lines = [`Agent "${agent.name}" (${program}; backend ${backend}; model ${agent.modelShown})`];
  lines.push("  It may:");
  lines.push(`    - model: ${agent.model.kind.describe(agent.model.grant)}`);
  if (agent.spec.tools.length > 0)
    lines.push(
      `    - call ${list(agent.spec.tools)}, each in its own sandbox with that tool's grants; its model sees these tools and no others`,
    );
  for (const g of agent.grants) lines.push(`    - ${g.handle} (${g.kind.kind}): ${g.kind.describe(g.grant)}`);
  lines.push("  It may not:");
  lines.push(
    "    - call any other tool: such a call comes back to its model as a tool error, and the session goes on",
  );
  lines.push("    - reach anything outside its handles: no files, network or stores of its own");
  lines.push(`  Budgets per session: ${describeAgentLimits(agent)}.`);
  return lines.join("\n");
}

/** The whole policy, or one tool, or one agent, in words. */
export function explainPolicy(policy: CompiledPolicy, only?: string, onlyAgent?: string): string {
  if (onlyAgent !== undefined) {
    const agent = policy.agents.get(onlyAgent);
    return agent ? `${explainAgent(agent)}\n` : "";
  }
  const tools = [...policy.tools.values()].filter((t) => only === undefined || t.name === only);
  const out = tools.map(explainTool);
  if (only === undefined) {
    for (const agent of policy.agents.values()) out.push(explainAgent(agent));
    for (const s of policy.servers.values()) {
      const reach = s.command ? `started as ${s.command.join(" ")}` : `at ${s.url}`;
      out.push(
        `MCP server "${s.name}" (${reach})\n  It may offer, as ${s.name}__TOOL, only: ${list(s.tools)}; each only while its whole definition matches the one an operator approved (warden mcp review, then warden mcp approve).\n  Every other tool of this server: never offered.`,
      );
    }
  }
  out.push(
    "Every other tool: does not run under this policy. A tool gets only the rights it also declares in its code; a granted right it does not declare is dropped at load.",
  );
  return `${out.join("\n\n")}\n`;
}
