// `warden policy diff`: what a new version of a policy grants or takes away, compared with the old one.
import { parseArgs } from "node:util";
import { WardenError } from "../errors.ts";
import { loadPolicy } from "../policy/compile.ts";
import { diffPolicies, formatChanges } from "../policy/diff.ts";
import { policyEnv } from "../policy/run.ts";
import type { CliIo } from "./commands.ts";
import { withRuntime } from "./policy-check.ts";

export const POLICY_DIFF_HELP = `warden policy diff: what NEW grants or takes away compared with OLD, per tool and handle.

Usage:
  warden policy diff OLD NEW

Each line starts with + (more is allowed), - (less is allowed) or ~ (neither: a source, backend or pin).

Example:
  warden policy diff policy.yaml policy.next.yaml
`;

export async function policyDiff(argv: string[], io: CliIo): Promise<void> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 2) {
    throw new WardenError(
      "USAGE",
      `warden policy diff takes OLD and NEW policy files, got ${positionals.length} arguments`,
    );
  }
  await withRuntime((runtime) => {
    const env = policyEnv(runtime);
    const before = loadPolicy(positionals[0]!, env);
    const after = loadPolicy(positionals[1]!, env);
    io.stdout(formatChanges(diffPolicies(before, after)));
  });
}
