// Loading a tool under a policy: by its policy name, with exactly its grants and limits, refused if its pin fails.

import { kindNamed } from "../capabilities/index.ts";
import { WardenError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import type { Tool } from "../tool.ts";
import { type CompiledPolicy, loadPolicy, type PolicyEnv } from "./compile.ts";
import { checkPin, pinOf } from "./digest.ts";

/** What a runtime offers policy compilation: its kinds and its backends. */
export function policyEnv(runtime: Runtime): PolicyEnv {
  return { kindOf: (name) => runtime.kernel.kind(name), hasBackend: (name) => runtime.hasBackend(name) };
}

/** Loads and compiles a policy against a runtime's kinds; records the load in the audit log. */
export function loadPolicyFor(runtime: Runtime, file: string, cwd = process.cwd()): CompiledPolicy {
  const policy = loadPolicy(file, policyEnv(runtime), cwd);
  // The policy's secrets join the runtime's store: names and sources only; values are read when used.
  for (const [name, source] of Object.entries(policy.secrets)) runtime.secrets.define(name, source);
  runtime.kernel.audit.record({
    event: "policy",
    tool: "*",
    sandbox: "-",
    summary: `loaded ${file} sha256:${policy.sha256} (${policy.tools.size} tools)`,
    decision: "allow",
  });
  return policy;
}

/**
 * A denial's operator hint in the policy's words: which field of which tool's grant to change, not the
 * `--grant` flag (which `--policy` refuses). Other errors pass through unchanged.
 */
export function inPolicyTerms(error: unknown, policy: CompiledPolicy, name: string): unknown {
  if (!(error instanceof WardenError) || error.code !== "CAPABILITY_DENIED") return error;
  const tool = policy.tools.get(name);
  const granted = tool?.grants.find((g) => g.handle === error.denial?.handle);
  const spec = error.denial?.grant;
  if (!tool || !granted || spec === undefined || !error.hint) return error;
  const field = `tools.${name}.grants.${granted.handle}.${granted.kind.kind}`;
  const wanted = granted.kind.parseSpec(spec.slice(granted.kind.kind.length + 1), {
    cwd: process.cwd(),
    owner: name,
  });
  const changes: string[] = [];
  const rights = wanted.rights.filter((r) => !granted.grant.rights.includes(r));
  if (rights.length > 0)
    changes.push(
      `add ${rights.join(", ")} to ${field}.${kindNamed(granted.kind.kind)?.policyRightsField ?? "rights"}`,
    );
  const have = granted.grant.scope as Record<string, unknown>;
  for (const [key, value] of Object.entries(wanted.scope as Record<string, unknown>)) {
    const before = have[key];
    if (!Array.isArray(value) || !Array.isArray(before)) continue;
    const more = value.filter((v) => !before.includes(v));
    if (more.length > 0) changes.push(`add ${more.join(", ")} to ${field}.${key}`);
  }
  if (changes.length === 0) return error;
  return new WardenError(
    error.code,
    error.message,
    error.denial,
    `to allow it, ${changes.join(" and ")} in ${policy.file}`,
  );
}

/** The tool the policy names `name`, loaded with its grants and limits. A tool the policy does not name does not run. */
export async function loadToolUnderPolicy(
  runtime: Runtime,
  policy: CompiledPolicy,
  name: string,
): Promise<Tool> {
  const entry = policy.tools.get(name);
  if (!entry) {
    const names = [...policy.tools.keys()];
    runtime.kernel.audit.record({
      event: "policy",
      tool: name,
      sandbox: "-",
      summary: `${policy.file} does not name this tool`,
      decision: "deny",
      code: "CAPABILITY_DENIED",
    });
    throw new WardenError(
      "CAPABILITY_DENIED",
      `${policy.file} does not name a tool "${name}", so it does not run under it; ${names.length ? `it names: ${names.join(", ")}` : "it names no tools"}`,
    );
  }
  // Each grant as its kind built it from the policy entry: no spec text between the policy and the kernel.
  const grants = Object.fromEntries(
    entry.grants.map((g) => [g.handle, { kind: g.kind.kind, grant: g.grant }]),
  );
  return runtime.loadTool(entry.source, {
    grants,
    limits: entry.limits,
    backend: entry.backend,
    verify: ({ definition, code }) => {
      const refuse = (error: WardenError): never => {
        runtime.kernel.audit.record({
          event: "policy",
          tool: name,
          sandbox: "-",
          summary: `${policy.file} ${entry.sourceShown}`,
          decision: "deny",
          code: error.code,
          reason: error.message,
        });
        throw error;
      };
      if (definition.name !== name) {
        refuse(
          new WardenError(
            "POLICY_INVALID",
            `${policy.file} names this tool "${name}", but ${entry.sourceShown} defines itself as "${definition.name}"; a policy names each tool by its defineTool name`,
          ),
        );
      }
      if (entry.digest === undefined) return;
      try {
        checkPin(name, policy.file, { digest: entry.digest, parts: entry.parts }, pinOf(definition, code));
      } catch (error) {
        if (error instanceof WardenError) refuse(error);
        throw error;
      }
    },
  });
}

/**
 * Defines on the runtime every agent a policy names, after loading (under the policy, with their grants and
 * limits) the tools they may call that `loaded` does not already hold. A SERVER__TOOL is provided by whoever
 * fronts that server (mcp serve).
 */
export async function defineAgentsUnderPolicy(
  runtime: Runtime,
  policy: CompiledPolicy,
  loaded: Set<string> = new Set(),
): Promise<void> {
  for (const agent of policy.agents.values()) {
    for (const tool of agent.spec.tools) {
      if (loaded.has(tool) || !policy.tools.has(tool)) continue;
      await loadToolUnderPolicy(runtime, policy, tool);
      loaded.add(tool);
    }
    runtime.agents.define(agent.spec);
  }
}
