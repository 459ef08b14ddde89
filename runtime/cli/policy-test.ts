// `warden policy test`: a table of cases checked against a compiled policy, no tool run.
import { parseArgs } from "node:util";
import { WardenError } from "../errors.ts";
import { formatResult, runCases } from "../policy/cases.ts";
import { loadPolicy } from "../policy/compile.ts";
import { policyEnv } from "../policy/run.ts";
import type { CliIo } from "./commands.ts";
import { withRuntime } from "./policy-check.ts";

export const POLICY_TEST_HELP = `warden policy test: check a table of cases against a policy, without running any tool.

Usage:
  warden policy test FILE CASES

CASES is a YAML or JSON list; each case names a tool, a handle, an operation, its arguments and the
decision expected:

  - tool: docs
    handle: files
    op: readText
    args: { path: ../secret.txt }
    expect: deny            # allow | deny
    why: paths above the root are refused

Prints one line per case; exit code 1 (POLICY_TEST_FAILED) if any case is not decided as expected. A case
naming a tool, handle, operation or argument that does not exist under the policy is an ERROR line (it
would be denied whatever the policy said, so it tests nothing).
The decision is the kernel's: the handle's rights, the operation's own checks (net: the origin; fs: the path
stays inside the root). What only a run can see (whether a file exists, what a host resolves to) is noted.

Example:
  warden policy test policies/examples/docs/policy.yaml policies/examples/docs/cases.yaml
`;

export async function policyTest(argv: string[], io: CliIo): Promise<void> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 2) {
    throw new WardenError(
      "USAGE",
      `warden policy test takes a policy FILE and a CASES file, got ${positionals.length} arguments`,
    );
  }
  const [file, cases] = positionals as [string, string];
  await withRuntime((runtime) => {
    const results = runCases(loadPolicy(file, policyEnv(runtime)), cases);
    for (const r of results) io.stdout(`${formatResult(r)}\n`);
    const failed = results.filter((r) => !r.pass).length;
    const errors = results.filter((r) => r.error !== undefined).length;
    const named = errors
      ? ` (${errors} name${errors === 1 ? "s" : ""} a tool, handle, operation or argument that does not exist)`
      : "";
    io.stdout(`${results.length - failed} of ${results.length} cases as expected${named}\n`);
    if (failed > 0) {
      throw new WardenError(
        "POLICY_TEST_FAILED",
        `${failed} of ${results.length} cases in ${cases} were not decided as expected${named}`,
      );
    }
  });
}
