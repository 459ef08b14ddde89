// Policy test tables: cases of (tool, handle, op, args) with the decision expected, checked without running tools.
import { resolve } from "node:path";
import { z } from "zod";
import type { CompiledPolicy } from "./compile.ts";
import { type CallDecision, decide } from "./decide.ts";
import { readDocument } from "./document.ts";
import { invalid } from "./problems.ts";

const caseSchema = z.strictObject(
  {
    tool: z.string().min(1),
    handle: z.string().min(1),
    op: z.string().min(1),
    args: z.record(z.string(), z.unknown()).default({}),
    expect: z.enum(["allow", "deny"], { error: () => "expect is allow or deny" }),
    why: z.string().optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? "in a case; valid fields: tool, handle, op, args, expect, why"
        : undefined,
  },
);

const casesSchema = z.array(caseSchema).min(1, "a cases file is a list of at least one case");

export type PolicyCase = z.infer<typeof caseSchema>;

export interface CaseResult {
  case: PolicyCase;
  /** Where the case is: `file:line`. */
  at: string;
  decision: CallDecision;
  pass: boolean;
  /** Set when the case names a tool, handle, operation or argument that does not exist: it tests nothing. */
  error?: string;
}

/**
 * What in a case does not exist under the policy. Such a case would be denied whatever the policy said (a
 * typo like `op: writetext` or `tool: wordcont` is "deny, as expected"), so it is an error, not a result.
 */
export function caseProblem(
  policy: CompiledPolicy,
  c: Pick<PolicyCase, "tool" | "handle" | "op" | "args">,
): string | undefined {
  const tool = policy.tools.get(c.tool);
  if (!tool) {
    return `the policy names no tool "${c.tool}" (it names: ${[...policy.tools.keys()].join(", ") || "none"})`;
  }
  const grant = tool.grants.find((g) => g.handle === c.handle);
  if (!grant) {
    return `tool "${c.tool}" gets no handle "${c.handle}" under this policy (it gets: ${tool.grants.map((g) => g.handle).join(", ") || "none"})`;
  }
  if (c.op === "$attenuate") return undefined;
  const ops = grant.kind.ops;
  if (!Object.hasOwn(ops, c.op)) {
    return `handle "${c.handle}" (${grant.kind.kind}) has no operation "${c.op}" (it has: ${Object.keys(ops).join(", ")})`;
  }
  const schema = ops[c.op]!.args as { shape?: Record<string, unknown> };
  if (schema.shape && typeof schema.shape === "object") {
    const known = Object.keys(schema.shape);
    const unknown = Object.keys(c.args).filter((k) => !known.includes(k));
    if (unknown.length > 0) {
      return `${c.handle}.${c.op} takes no argument ${unknown.map((k) => `"${k}"`).join(", ")} (it takes: ${known.join(", ") || "none"})`;
    }
  }
  return undefined;
}

/** The decision for one case under a compiled policy: a tool or handle the policy does not name is denied. */
export function decideCase(
  policy: CompiledPolicy,
  c: Pick<PolicyCase, "tool" | "handle" | "op" | "args">,
): CallDecision {
  const tool = policy.tools.get(c.tool);
  if (!tool) {
    return {
      allow: false,
      code: "CAPABILITY_DENIED",
      reason: `the policy does not name tool "${c.tool}", so it does not run`,
    };
  }
  const grant = tool.grants.find((g) => g.handle === c.handle);
  if (!grant) {
    return {
      allow: false,
      code: "CAPABILITY_DENIED",
      reason: `tool "${c.tool}" gets no handle "${c.handle}" under this policy${tool.grants.length ? ` (it gets: ${tool.grants.map((g) => g.handle).join(", ")})` : ""}`,
    };
  }
  return decide(grant.kind, grant.grant, c.handle, c.op, c.args);
}

/** Reads a cases file (POLICY_INVALID listing every problem) and checks each case against the policy. */
export function runCases(policy: CompiledPolicy, file: string, cwd = process.cwd()): CaseResult[] {
  const read = readDocument(resolve(cwd, file), file, casesSchema);
  if (!read.data) throw invalid(file, read.problems, "cases file");
  return read.data.map((c, i) => {
    const at = `${file}:${read.locator.lineOf([i])}`;
    const decision = decideCase(policy, c);
    const error = caseProblem(policy, c);
    if (error !== undefined) return { case: c, at, decision, pass: false, error };
    return { case: c, at, decision, pass: decision.allow === (c.expect === "allow") };
  });
}

/** One line per case: `ok` or `FAIL`, where, what, and what was decided and why. */
export function formatResult(r: CaseResult): string {
  const what = `${r.case.tool} ${r.case.handle}.${r.case.op} ${JSON.stringify(r.case.args)}`;
  const got = r.decision.allow ? "allow" : "deny";
  const note = r.decision.note ? ` (${r.decision.note})` : "";
  if (r.error !== undefined) return `ERROR ${r.at}  ${what}: ${r.error}`;
  if (r.pass) return `ok    ${r.at}  ${what} -> ${got}${note}`;
  return `FAIL  ${r.at}  ${what} -> expected ${r.case.expect}, got ${got}: ${r.decision.reason}`;
}
