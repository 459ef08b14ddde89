// Compiles a policy's agents: the model grant (paths made absolute), the tools they may call, their budgets.
import { realpathSync, statSync } from "node:fs";
import { extname, isAbsolute, resolve } from "node:path";
import type { AgentSpec } from "../agents/runner.ts";
import type { CapabilityKind, Grant, KindEnv } from "../capabilities/types.ts";
import { WardenError } from "../errors.ts";
import type { CompiledGrant, CompiledServer, PolicyEnv } from "./compile.ts";
import type { Locator, Problem } from "./problems.ts";
import type { AgentEntry, GrantEntry, OVERFLOW_CHOICES } from "./schema.ts";

export type Overflow = (typeof OVERFLOW_CHOICES)[number];
export type { AgentSpec };

export interface CompiledAgent {
  name: string;
  /** What `runtime.agents.define` is given; a policy always lists its tools (maybe none). */
  spec: AgentSpec & { tools: string[] };
  /** The model as the policy wrote it, for people. */
  modelShown: string;
  /** The model grant, parsed by the model kind. */
  model: { kind: CapabilityKind; grant: Grant<unknown> };
  /** The source as the policy wrote it, for people. */
  sourceShown: string | undefined;
  grants: CompiledGrant[];
}

/** How compile.ts compiles one grant entry; passed in so that this file and compile.ts do not import each other. */
export type GrantCompiler = (
  entry: GrantEntry,
  kindEnv: KindEnv,
  path: readonly (string | number)[],
) => Omit<CompiledGrant, "handle"> | undefined;

export interface AgentContext {
  /** The policy file's directory: what relative paths are resolved against. */
  dir: string;
  env: PolicyEnv;
  at: Locator;
  problems: Problem[];
  toolNames: readonly string[];
  servers: ReadonlyMap<string, CompiledServer>;
  compileGrant: GrantCompiler;
}

const AGENT_SOURCE_EXTENSIONS = [".js", ".mjs", ".ts", ".mts"];

/** The spec body, without the optional `model:` prefix a CLI grant carries. */
export function modelBody(written: string): string {
  return written.startsWith("model:") ? written.slice("model:".length) : written;
}

/**
 * The spec with the scripted model's file made absolute, so the runtime reads the file the policy meant
 * whatever its own working directory. Other providers name models, not files.
 */
export function absoluteBody(body: string, dir: string): string {
  if (!body.startsWith("scripted:")) return body;
  const [head = "", ...options] = body.split(";");
  const target = head.slice("scripted:".length);
  const full = isAbsolute(target) ? target : resolve(dir, target);
  return [`scripted:${full}`, ...options].join(";");
}

export function compileAgent(name: string, entry: AgentEntry, cx: AgentContext): CompiledAgent | undefined {
  const base = ["agents", name] as const;
  const problem = (path: readonly (string | number)[], message: string) =>
    cx.problems.push(cx.at.problem([...base, ...path], message));
  const before = cx.problems.length;
  if (cx.toolNames.includes(name)) {
    const why = `an agent and a tool cannot share the name "${name}": warden mcp serve offers both as tools`;
    cx.problems.push(cx.at.problem(["agents"], why, name));
  }
  const model = compileModel(entry, cx, problem);
  const tools = entry.tools.filter((tool, i) => knownTool(tool, i, cx, problem));
  let source: string | undefined;
  if (entry.source !== undefined) source = agentSource(entry.source, cx.dir, problem);
  const grants: CompiledGrant[] = [];
  for (const [handle, grantEntry] of Object.entries(entry.grants)) {
    const kindEnv: KindEnv = { cwd: cx.dir, owner: name, identity: source };
    const compiled = cx.compileGrant(grantEntry, kindEnv, [...base, "grants", handle]);
    if (compiled) grants.push({ handle, ...compiled });
  }
  if (entry.backend !== undefined && !cx.env.hasBackend(entry.backend.split(":")[0]!))
    problem(["backend"], `unknown backend "${entry.backend}"`);
  if (cx.problems.length > before || !model) return undefined;
  const spec: CompiledAgent["spec"] = {
    name,
    ...(entry.description === undefined ? {} : { description: entry.description }),
    ...(entry.instructions === undefined ? {} : { instructions: entry.instructions }),
    model: model.spec,
    tools,
    ...(source === undefined ? {} : { source }),
    ...(grants.length === 0
      ? {}
      : { grants: Object.fromEntries(grants.map((g) => [g.handle, g.kind.formatSpec(g.grant)])) }),
    ...(entry.limits === undefined ? {} : { limits: { ...entry.limits } }),
    ...(entry.context === undefined ? {} : { context: { overflow: entry.context.overflow } }),
    ...(entry.backend === undefined ? {} : { backend: entry.backend }),
  };
  return {
    name,
    spec,
    modelShown: entry.model,
    model: { kind: model.kind, grant: model.grant },
    sourceShown: entry.source,
    grants,
  };
}

type ProblemAt = (path: readonly (string | number)[], message: string) => void;

/** The model grant, parsed by the model kind itself; a cost budget needs a price the kind can charge by. */
function compileModel(
  entry: AgentEntry,
  cx: AgentContext,
  problem: ProblemAt,
): { kind: CapabilityKind; grant: Grant<unknown>; spec: string } | undefined {
  const kind = cx.env.kindOf("model");
  if (!kind) {
    problem(["model"], "this runtime has no model capability");
    return undefined;
  }
  const body = absoluteBody(modelBody(entry.model), cx.dir);
  const parse = (text: string): Grant<unknown> | string => {
    try {
      return kind.parseSpec(text, { cwd: cx.dir });
    } catch (error) {
      if (!(error instanceof WardenError)) throw error;
      return error.message;
    }
  };
  const grant = parse(body);
  if (typeof grant === "string") {
    problem(["model"], grant);
    return undefined;
  }
  const script = (grant.scope as { script?: { path: string } }).script;
  if (script && !isFile(script.path)) {
    problem(
      ["model"],
      `no script file at ${script.path}; a scripted model's path is relative to the policy file`,
    );
    return undefined;
  }
  if (entry.limits?.cost !== undefined) {
    // The session runner does not charge its model's usage in dollars (runtime.agents.define refuses it); the
    // model grant's own totalCost is charged by the model kind, for a priced model.
    problem(
      ["limits", "cost"],
      `an agent's cost budget is not enforced yet; put it on the model grant instead: ${entry.model};totalCost=${entry.limits.cost}`,
    );
  }
  return { kind, grant, spec: body };
}

/** A name from `tools:`, or SERVER__TOOL for a tool a server of `servers:` may offer. */
function knownTool(tool: string, i: number, cx: AgentContext, problem: ProblemAt): boolean {
  if (cx.toolNames.includes(tool)) return true;
  const split = tool.indexOf("__");
  const server = split > 0 ? cx.servers.get(tool.slice(0, split)) : undefined;
  if (server?.tools.includes(tool.slice(split + 2))) return true;
  const offered = [
    ...cx.toolNames,
    ...[...cx.servers.values()].flatMap((s) => s.tools.map((t) => `${s.name}__${t}`)),
  ];
  problem(
    ["tools", i],
    `no tool "${tool}" in this policy; an agent calls tools named in tools: or, as SERVER__TOOL, in servers: (${offered.join(", ") || "none are named"})`,
  );
  return false;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The defineAgent module's real path, or a problem pointing at `source`. */
function agentSource(source: string, dir: string, problem: ProblemAt): string | undefined {
  const full = resolve(dir, source);
  if (!AGENT_SOURCE_EXTENSIONS.includes(extname(full))) {
    problem(["source"], `an agent's source is a module (${AGENT_SOURCE_EXTENSIONS.join(", ")})`);
    return undefined;
  }
  if (!isFile(full)) {
    problem(["source"], `no agent module at ${full}; source is relative to the policy file`);
    return undefined;
  }
  return realpathSync(full);
}
