// `policy diff`: what a change to a policy grants and what it takes away, per tool and handle, in words.
import type { CompiledAgent } from "./agents.ts";
import type { CompiledGrant, CompiledPolicy, CompiledServer, CompiledTool } from "./compile.ts";
import { describeAgentLimits, describeLimits, list } from "./explain.ts";

export interface Change {
  tool: string;
  /** "+" grants more, "-" takes away, "~" neither (a source or pin change). */
  sign: "+" | "-" | "~";
  text: string;
}

function scopeSpec(g: CompiledGrant): string {
  return g.kind.formatSpec({ ...g.grant, rights: [] });
}

function diffGrant(tool: string, before: CompiledGrant, after: CompiledGrant, out: Change[]): void {
  const h = `${before.handle} (${after.kind.kind})`;
  if (before.kind.kind !== after.kind.kind) {
    out.push({ tool, sign: "-", text: `${before.handle} no longer ${before.kind.describe(before.grant)}` });
    out.push({
      tool,
      sign: "+",
      text: `${after.handle} is now ${after.kind.kind}: ${after.kind.describe(after.grant)}`,
    });
    return;
  }
  const added = after.grant.rights.filter((r) => !before.grant.rights.includes(r));
  const removed = before.grant.rights.filter((r) => !after.grant.rights.includes(r));
  if (added.length) out.push({ tool, sign: "+", text: `${h} gains ${list(added)}` });
  if (removed.length) out.push({ tool, sign: "-", text: `${h} loses ${list(removed)}` });
  const scopeA = before.grant.scope as { origins?: string[] };
  const scopeB = after.grant.scope as { origins?: string[] };
  if (after.kind.kind === "net" && scopeA.origins && scopeB.origins) {
    const more = scopeB.origins.filter((o) => !scopeA.origins!.includes(o));
    const fewer = scopeA.origins.filter((o) => !scopeB.origins!.includes(o));
    if (more.length) out.push({ tool, sign: "+", text: `${h} may now reach ${list(more)}` });
    if (fewer.length) out.push({ tool, sign: "-", text: `${h} may no longer reach ${list(fewer)}` });
  } else if (scopeSpec(before) !== scopeSpec(after)) {
    // A different directory or store is neither wider nor narrower in general: show both.
    out.push({ tool, sign: "+", text: `${h} now: ${after.kind.describe(after.grant)}` });
    out.push({ tool, sign: "-", text: `${h} before: ${before.kind.describe(before.grant)}` });
  }
}

/** Handles by name: lost, gained, or changed. `tool` labels the lines ("reader", "agent reader"). */
function diffGrants(tool: string, before: CompiledGrant[], after: CompiledGrant[], out: Change[]): void {
  for (const b of before) {
    const a = after.find((g) => g.handle === b.handle);
    if (!a)
      out.push({
        tool,
        sign: "-",
        text: `loses handle ${b.handle} (${b.kind.kind}): ${b.kind.describe(b.grant)}`,
      });
    else diffGrant(tool, b, a, out);
  }
  for (const a of after) {
    if (!before.some((g) => g.handle === a.handle)) {
      out.push({
        tool,
        sign: "+",
        text: `gains handle ${a.handle} (${a.kind.kind}): ${a.kind.describe(a.grant)}`,
      });
    }
  }
}

function diffTool(before: CompiledTool, after: CompiledTool, out: Change[]): void {
  const tool = after.name;
  diffGrants(tool, before.grants, after.grants, out);
  for (const key of ["timeoutMs", "cpuMs", "memoryMb", "outputKb"] as const) {
    const [x, y] = [before.limits[key], after.limits[key]];
    if (x !== y) out.push({ tool, sign: y > x ? "+" : "-", text: `${key} ${x} -> ${y}` });
  }
  if (before.source !== after.source)
    out.push({ tool, sign: "~", text: `source ${before.sourceShown} -> ${after.sourceShown}` });
  if ((before.backend ?? "default") !== (after.backend ?? "default")) {
    out.push({
      tool,
      sign: "~",
      text: `backend ${before.backend ?? "default"} -> ${after.backend ?? "default"}`,
    });
  }
  if (before.digest !== after.digest) {
    const text = after.digest
      ? `pinned to ${after.digest.slice(0, 19)}…`
      : "no longer pinned: whatever code is at its source runs";
    out.push({ tool, sign: after.digest ? "~" : "+", text });
  }
}

const reach = (s: CompiledServer) => (s.command ? s.command.join(" ") : (s.url ?? ""));

/** Servers: a tool a server may offer is more that may reach a model (once approved), so it is a "+". */
function diffServers(before: CompiledPolicy, after: CompiledPolicy, out: Change[]): void {
  for (const [name, b] of before.servers) {
    const a = after.servers.get(name);
    const tool = `server ${name}`;
    if (!a) {
      out.push({ tool, sign: "-", text: `no longer fronted (removed): ${b.tools.join(", ")}` });
      continue;
    }
    const more = a.tools.filter((t) => !b.tools.includes(t));
    const fewer = b.tools.filter((t) => !a.tools.includes(t));
    if (more.length) out.push({ tool, sign: "+", text: `may now offer ${list(more)} (once approved)` });
    if (fewer.length) out.push({ tool, sign: "-", text: `may no longer offer ${list(fewer)}` });
    if (reach(a) !== reach(b)) out.push({ tool, sign: "~", text: `${reach(b)} -> ${reach(a)}` });
  }
  for (const [name, a] of after.servers) {
    if (before.servers.has(name)) continue;
    out.push({
      tool: `server ${name}`,
      sign: "+",
      text: `now fronted (added): ${reach(a)}, offering ${list(a.tools)} (once approved)`,
    });
  }
}

const AGENT_LIMITS = ["turns", "tokens", "cost", "wallMs", "contextTokens"] as const;

/** An agent: more tools, a larger or removed budget, or more handles is a "+"; a new model is both. */
function diffAgent(before: CompiledAgent, after: CompiledAgent, out: Change[]): void {
  const tool = `agent ${after.name}`;
  const [b, a] = [before.spec, after.spec];
  const more = a.tools.filter((t) => !b.tools.includes(t));
  const fewer = b.tools.filter((t) => !a.tools.includes(t));
  if (more.length) out.push({ tool, sign: "+", text: `may now call ${list(more)}` });
  if (fewer.length) out.push({ tool, sign: "-", text: `may no longer call ${list(fewer)}` });
  if (a.model !== b.model) {
    // Another provider or model is neither more nor less in general: show both.
    out.push({ tool, sign: "+", text: `model now: ${after.model.kind.describe(after.model.grant)}` });
    out.push({ tool, sign: "-", text: `model before: ${before.model.kind.describe(before.model.grant)}` });
  }
  for (const key of AGENT_LIMITS) {
    const [x, y] = [b.limits?.[key], a.limits?.[key]];
    if (x === y) continue;
    if (y === undefined) out.push({ tool, sign: "+", text: `${key} ${x} -> no limit` });
    else if (x === undefined) out.push({ tool, sign: "-", text: `${key} no limit -> ${y}` });
    else out.push({ tool, sign: y > x ? "+" : "-", text: `${key} ${x} -> ${y}` });
  }
  const [ob, oa] = [b.context?.overflow ?? "refuse", a.context?.overflow ?? "refuse"];
  if (ob !== oa) out.push({ tool, sign: "~", text: `context overflow ${ob} -> ${oa}` });
  if (a.instructions !== b.instructions) out.push({ tool, sign: "~", text: "instructions changed" });
  if ((a.backend ?? "default") !== (b.backend ?? "default"))
    out.push({ tool, sign: "~", text: `backend ${b.backend ?? "default"} -> ${a.backend ?? "default"}` });
  if (a.source !== b.source)
    out.push({
      tool,
      sign: "~",
      text: `program ${before.sourceShown ?? "standard loop"} -> ${after.sourceShown ?? "standard loop"}`,
    });
  diffGrants(tool, before.grants, after.grants, out);
}

function diffAgents(before: CompiledPolicy, after: CompiledPolicy, out: Change[]): void {
  for (const [name, b] of before.agents) {
    const a = after.agents.get(name);
    if (!a)
      out.push({ tool: `agent ${name}`, sign: "-", text: "no longer runs under this policy (removed)" });
    else diffAgent(b, a, out);
  }
  for (const [name, a] of after.agents) {
    if (before.agents.has(name)) continue;
    const calls = a.spec.tools.length ? `calling ${list(a.spec.tools)}` : "calling no tools";
    out.push({
      tool: `agent ${name}`,
      sign: "+",
      text: `now runs (added), ${calls}; model: ${a.model.kind.describe(a.model.grant)}; budgets: ${describeAgentLimits(a)}`,
    });
  }
}

export function diffPolicies(before: CompiledPolicy, after: CompiledPolicy): Change[] {
  const out: Change[] = [];
  for (const [name, b] of before.tools) {
    const a = after.tools.get(name);
    if (!a) out.push({ tool: name, sign: "-", text: "no longer runs under this policy (removed)" });
    else diffTool(b, a, out);
  }
  for (const [name, a] of after.tools) {
    if (before.tools.has(name)) continue;
    const handles = a.grants.map((g) => `${g.handle} (${g.kind.kind}): ${g.kind.describe(g.grant)}`);
    out.push({
      tool: name,
      sign: "+",
      text: `now runs (added)${handles.length ? `, with ${handles.join("; ")}` : ", with no handles"}; limits ${describeLimits(a.limits)}`,
    });
  }
  diffServers(before, after, out);
  diffAgents(before, after, out);
  return out;
}

export function formatChanges(changes: Change[]): string {
  if (changes.length === 0) return "no change in what any tool may do\n";
  return `${changes.map((c) => `${c.sign} ${c.tool}: ${c.text}`).join("\n")}\n`;
}
