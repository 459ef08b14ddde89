// Compiles a policy into exactly what the kernel enforces: per tool, grants built by each kind's own policy form, and limits.
import { createHash } from "node:crypto";
import { realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { kindNamed } from "../capabilities/index.ts";
import type { CapabilityKind, Grant, KindEnv } from "../capabilities/types.ts";
import { DEFAULT_LIMITS, type Limits } from "../isolates/types.ts";
import type { SecretSource } from "../secrets.ts";
import { type CompiledAgent, compileAgent } from "./agents.ts";
import { readDocument } from "./document.ts";
import { invalid, type Locator, type Problem } from "./problems.ts";
import {
  type GrantEntry,
  grantSchema,
  type PinPart,
  policySchema,
  type ToolEntry,
  toolSchema,
} from "./schema.ts";

/** What compiling needs from a runtime: its capability kinds and backends. */
export interface PolicyEnv {
  kindOf(name: string): CapabilityKind | undefined;
  hasBackend(name: string): boolean;
}

export interface CompiledGrant {
  handle: string;
  kind: CapabilityKind;
  /** Built by the kind's policy form; what the runtime is given (runtime/policy/run.ts), as it is. */
  grant: Grant<unknown>;
  /** The kernel secrets the grant uses (its kind's `secretsOf`): names only, for people. */
  secrets: readonly string[];
}

export interface CompiledTool {
  name: string;
  /** Absolute path of the tool module. */
  source: string;
  /** The source as the policy wrote it, for people. */
  sourceShown: string;
  digest: string | undefined;
  parts: Record<PinPart, string> | undefined;
  backend: string | undefined;
  limits: Limits;
  grants: CompiledGrant[];
}

/** An external MCP server as the policy allows it. */
export interface CompiledServer {
  name: string;
  command: string[] | undefined;
  url: string | undefined;
  tools: string[];
}

export interface CompiledPolicy {
  /** The policy file as named by the caller. */
  file: string;
  agents: Map<string, CompiledAgent>;
  servers: Map<string, CompiledServer>;
  /** sha256 of the file's bytes: which policy a run was under, for the audit log. */
  sha256: string;
  tools: Map<string, CompiledTool>;
  /** Secrets by name, file paths made absolute: the runtime's store takes them when the policy is loaded. */
  secrets: Record<string, SecretSource>;
}

/** Loads, checks and compiles a policy; throws POLICY_INVALID listing every problem. */
export function loadPolicy(file: string, env: PolicyEnv, cwd = process.cwd()): CompiledPolicy {
  const full = resolve(cwd, file);
  const read = readDocument(full, file, policySchema);
  const problems = [...read.problems];
  const tools = new Map<string, CompiledTool>();
  const secrets: Record<string, SecretSource> = {};
  for (const [name, source] of Object.entries(read.data?.secrets ?? {})) {
    secrets[name] = "env" in source ? { env: source.env } : { file: resolve(dirname(full), source.file) };
  }
  if (read.data) {
    for (const [name, entry] of Object.entries(read.data.tools)) {
      const tool = compileTool(name, entry, dirname(full), Object.keys(secrets), env, read.locator, problems);
      if (tool) tools.set(name, tool);
    }
  } else {
    checkValidParts(read.raw, dirname(full), env, read.locator, problems);
  }
  const servers = new Map<string, CompiledServer>();
  for (const [name, server] of Object.entries(read.data?.servers ?? {})) {
    const [program, ...args] = server.command ?? [];
    const command =
      program === undefined
        ? undefined
        : [program.startsWith(".") ? resolve(dirname(full), program) : program, ...args];
    servers.set(name, { name, command, url: server.url, tools: [...server.tools] });
  }
  const agents = new Map<string, CompiledAgent>();
  for (const [name, entry] of Object.entries(read.data?.agents ?? {})) {
    const agent = compileAgent(name, entry, {
      dir: dirname(full),
      env,
      at: read.locator,
      problems,
      toolNames: Object.keys(read.data?.tools ?? {}),
      servers,
      compileGrant: (grant, kindEnv, path) => compileGrant(grant, kindEnv, env, read.locator, path, problems),
    });
    if (agent) agents.set(name, agent);
  }
  if (problems.length > 0) throw invalid(file, problems);
  return {
    file,
    sha256: createHash("sha256").update(read.text).digest("hex"),
    tools,
    servers,
    secrets,
    agents,
  };
}

/** The secret names a compiled tool's grants use, sorted: names only, never where or what they are. */
export function secretsUsed(tool: CompiledTool): string[] {
  const names = new Set<string>();
  for (const g of tool.grants) for (const name of g.secrets) names.add(name);
  return [...names].sort();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * When the schema refused part of a policy, the parts it accepted still get their checks against the file
 * system and the kinds, so one run lists every problem, not just the schema's.
 */
function checkValidParts(raw: unknown, dir: string, env: PolicyEnv, at: Locator, problems: Problem[]): void {
  if (!isRecord(raw) || !isRecord(raw.tools)) return;
  // The names secrets: defines, even if a source is malformed (that is its own problem, reported already).
  const secrets = isRecord(raw.secrets) ? Object.keys(raw.secrets) : [];
  for (const [name, entry] of Object.entries(raw.tools)) {
    const tool = toolSchema.safeParse(entry);
    if (tool.success) {
      compileTool(name, tool.data, dir, secrets, env, at, problems);
      continue;
    }
    if (!isRecord(entry)) continue;
    const identity =
      typeof entry.source === "string" && entry.source !== ""
        ? sourceIdentity(name, entry.source, dir, at, problems)
        : undefined;
    if (!isRecord(entry.grants)) continue;
    for (const [handle, rawGrant] of Object.entries(entry.grants)) {
      const grant = grantSchema.safeParse(rawGrant);
      if (!grant.success) continue;
      const kindEnv: KindEnv = { cwd: dir, owner: name, identity, secrets };
      compileGrant(grant.data, kindEnv, env, at, ["tools", name, "grants", handle], problems);
    }
  }
}

/** The tool file's real path (what kv keys private stores by), or a problem pointing at `source`. */
function sourceIdentity(
  name: string,
  source: string,
  dir: string,
  at: Locator,
  problems: Problem[],
): string | undefined {
  const full = resolve(dir, source);
  try {
    const real = realpathSync(full);
    if (statSync(real).isFile()) return real;
  } catch {
    // Reported below, with the path resolved, which says more than the errno would.
  }
  problems.push(
    at.problem(["tools", name, "source"], `no tool file at ${full}; source is relative to the policy file`),
  );
  return undefined;
}

function compileTool(
  name: string,
  entry: ToolEntry,
  dir: string,
  secrets: readonly string[],
  env: PolicyEnv,
  at: Locator,
  problems: Problem[],
): CompiledTool | undefined {
  const base = ["tools", name] as const;
  const before = problems.length;
  const source = resolve(dir, entry.source);
  const identity = sourceIdentity(name, entry.source, dir, at, problems);
  if (entry.backend !== undefined && !env.hasBackend(entry.backend)) {
    problems.push(at.problem([...base, "backend"], `unknown backend "${entry.backend}"`));
  }
  const grants: CompiledGrant[] = [];
  for (const [handle, grantEntry] of Object.entries(entry.grants)) {
    const kindEnv: KindEnv = { cwd: dir, owner: name, identity, secrets };
    const compiled = compileGrant(grantEntry, kindEnv, env, at, [...base, "grants", handle], problems);
    if (compiled) grants.push({ handle, ...compiled });
  }
  if (problems.length > before) return undefined;
  return {
    name,
    source,
    sourceShown: entry.source,
    digest: entry.digest,
    parts: entry.parts,
    backend: entry.backend,
    limits: { ...DEFAULT_LIMITS, ...entry.limits },
    grants,
  };
}

/** The one kind a grant entry names (the schema allows exactly one). */
function kindName(entry: GrantEntry): string {
  return Object.keys(entry)[0]!;
}

/** A grant entry compiled by its kind's own policy form, straight into a grant (no spec text in between). */
function compileGrant(
  entry: GrantEntry,
  kindEnv: KindEnv,
  env: PolicyEnv,
  at: Locator,
  path: readonly (string | number)[],
  problems: Problem[],
): Omit<CompiledGrant, "handle"> | undefined {
  const name = kindName(entry);
  const kind = env.kindOf(name);
  const form = kindNamed(name);
  if (!kind || !form) {
    problems.push(at.problem(path, `this runtime has no ${name} capability`));
    return undefined;
  }
  const before = problems.length;
  const grant = form.policyGrant(entry[name], kindEnv, (field, message) =>
    problems.push(at.problem([...path, name, ...field], message)),
  );
  if (!grant || problems.length > before) return undefined;
  return { kind, grant, secrets: kind.secretsOf?.(grant) ?? [] };
}
