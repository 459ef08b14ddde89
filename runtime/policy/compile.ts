// Compiles a policy into exactly what the kernel enforces: per tool, grants parsed by each kind's own parser, and limits.
import { createHash } from "node:crypto";
import { realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { CapabilityKind, Grant, KindEnv } from "../capabilities/types.ts";
import { WardenError } from "../errors.ts";
import { DEFAULT_LIMITS, type Limits } from "../isolates/types.ts";
import { type SecretSource, secretRefs } from "../secrets.ts";
import { readDocument } from "./document.ts";
import { invalid, type Locator, type Problem } from "./problems.ts";
import {
  GRANT_KINDS,
  type GrantEntry,
  type GrantKindName,
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
  grant: Grant<unknown>;
  /** The grant in CLI spec syntax (absolute paths): what the runtime is given, and parses again. */
  spec: string;
  /** Headers the kernel adds (net), with `${secret:NAME}` templates: given to the runtime beside `spec`. */
  headers?: Record<string, string>;
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
      const tool = compileTool(name, entry, dirname(full), env, read.locator, problems);
      if (tool) tools.set(name, tool);
    }
  } else {
    checkValidParts(read.raw, dirname(full), env, read.locator, problems);
  }
  if (read.data) checkSecretRefs(read.data.tools, secrets, read.locator, problems);
  if (problems.length > 0) throw invalid(file, problems);
  const servers = new Map<string, CompiledServer>();
  for (const [name, server] of Object.entries(read.data?.servers ?? {})) {
    const [program, ...args] = server.command ?? [];
    const command =
      program === undefined
        ? undefined
        : [program.startsWith(".") ? resolve(dirname(full), program) : program, ...args];
    servers.set(name, { name, command, url: server.url, tools: [...server.tools] });
  }
  return { file, sha256: createHash("sha256").update(read.text).digest("hex"), tools, servers, secrets };
}

/** Every `${secret:NAME}` in a header names an entry of `secrets`. */
function checkSecretRefs(
  tools: Record<string, ToolEntry>,
  secrets: Record<string, SecretSource>,
  at: Locator,
  problems: Problem[],
): void {
  for (const [name, entry] of Object.entries(tools)) {
    for (const [handle, grant] of Object.entries(entry.grants)) {
      for (const [header, template] of Object.entries(grant.net?.headers ?? {})) {
        for (const ref of secretRefs(template)) {
          if (Object.hasOwn(secrets, ref)) continue;
          const defined = Object.keys(secrets);
          problems.push(
            at.problem(
              ["tools", name, "grants", handle, "net", "headers", header],
              `names the secret "${ref}", which secrets: does not define${defined.length ? ` (it defines ${defined.join(", ")})` : ""}`,
            ),
          );
        }
      }
    }
  }
}

/** The secret names a compiled tool's grants use, sorted: names only, never where or what they are. */
export function secretsUsed(tool: CompiledTool): string[] {
  const names = new Set<string>();
  for (const g of tool.grants)
    for (const t of Object.values(g.headers ?? {})) for (const r of secretRefs(t)) names.add(r);
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
  for (const [name, entry] of Object.entries(raw.tools)) {
    const tool = toolSchema.safeParse(entry);
    if (tool.success) {
      compileTool(name, tool.data, dir, env, at, problems);
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
      const kindEnv: KindEnv = { cwd: dir, owner: name, identity };
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
    const kindEnv: KindEnv = { cwd: dir, owner: name, identity };
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

function kindName(entry: GrantEntry): GrantKindName {
  return GRANT_KINDS.find((k) => entry[k] !== undefined)!;
}

/** The spec body (what follows "kind:") for a grant entry, and where each part of it came from. */
function specBody(entry: GrantEntry, dir: string): string {
  if (entry.fs) return `${entry.fs.rights.join(",")}:${resolve(dir, entry.fs.root)}`;
  if (entry.net) return `${entry.net.methods.join(",")}:${entry.net.origins.join(",")}`;
  if (entry.kv) return `${(entry.kv.rights ?? []).join(",")}${entry.kv.shared ? `:${entry.kv.shared}` : ""}`;
  if (entry.clock)
    return `${(entry.clock.rights ?? ["read", "sleep"]).join(",")}:${entry.clock.resolution ?? "100ms"}`;
  return (entry.log?.rights ?? []).join(",");
}

// The kinds word their errors for the CLI's spec syntax; a policy names fields, not specs, so the spec
// wrapper is dropped when it is recognised (and the full message kept when it is not).
const NET_SPEC_WRAPPER = /^bad net grant "[^"]*": (.*)\. A valid spec looks like .*$/s;

function inPolicyWords(message: string): string {
  const net = NET_SPEC_WRAPPER.exec(message);
  if (!net) return message;
  return net[1]!.includes("scheme://") ? net[1]! : `${net[1]}; write each origin as scheme://host[:port]`;
}

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
  if (!kind) {
    problems.push(at.problem(path, `this runtime has no ${name} capability`));
    return undefined;
  }
  const before = problems.length;
  const parse = (body: string, where: readonly (string | number)[]): Grant<unknown> | undefined => {
    try {
      return kind.parseSpec(body, kindEnv);
    } catch (error) {
      if (!(error instanceof WardenError)) throw error;
      problems.push(at.problem(where, inPolicyWords(error.message)));
      return undefined;
    }
  };
  if (entry.fs) {
    // root names a directory, or one file (a one-file grant).
    const root = resolve(kindEnv.cwd, entry.fs.root);
    let reachable = false;
    try {
      const stats = statSync(root);
      reachable = stats.isDirectory() || stats.isFile();
    } catch {
      reachable = false;
    }
    if (!reachable) {
      problems.push(
        at.problem(
          [...path, "fs", "root"],
          `${root} is not a directory or a file; root is relative to the policy file`,
        ),
      );
      return undefined;
    }
  }
  if (entry.net) {
    // Each origin on its own first, so a problem points at the origin that has it.
    for (const [i, origin] of entry.net.origins.entries()) {
      const where = [...path, "net", "origins", i];
      if (origin.includes(","))
        problems.push(at.problem(where, `"${origin}" is not one origin; list each on its own`));
      else parse(`GET:${origin}`, where);
    }
  }
  if (entry.kv && kindEnv.identity === undefined) return undefined; // the source problem is already reported
  if (problems.length > before) return undefined;
  const grant = parse(specBody(entry, kindEnv.cwd), [...path, name]);
  if (!grant) return undefined;
  const headers = entry.net?.headers;
  if (headers === undefined || Object.keys(headers).length === 0)
    return { kind, grant, spec: kind.formatSpec(grant) };
  try {
    const bound = kind.withHeaders?.(grant, headers) ?? grant;
    return { kind, grant: bound, spec: kind.formatSpec(grant), headers };
  } catch (error) {
    if (!(error instanceof WardenError)) throw error;
    problems.push(at.problem([...path, "net", "headers"], error.message));
    return undefined;
  }
}
