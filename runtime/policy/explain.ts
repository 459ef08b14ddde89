// `policy explain`: what each tool may do and may not, in plain words, from the compiled policy.
import { GRANTABLE_KINDS } from "../capabilities/index.ts";
import type { Limits } from "../isolates/types.ts";
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

/** The whole policy, or one tool, in words. */
export function explainPolicy(policy: CompiledPolicy, only?: string): string {
  const tools = [...policy.tools.values()].filter((t) => only === undefined || t.name === only);
  const out = tools.map(explainTool);
  if (only === undefined) {
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
