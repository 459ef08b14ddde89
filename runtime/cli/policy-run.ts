// `warden tool run NAME --policy FILE`: runs the tool the policy names, with exactly the policy's grants and limits.
import { resolve } from "node:path";
import { WardenError } from "../errors.ts";
import { inPolicyTerms, loadPolicyFor, loadToolUnderPolicy } from "../policy/run.ts";
import { createRuntime } from "../runtime.ts";
import type { CliIo } from "./commands.ts";

/** Flags that would change what the policy grants; under a policy, the policy alone decides. */
const POLICY_OWNS = [
  "--grant",
  "--secret",
  "--header",
  "--timeout-ms",
  "--cpu-ms",
  "--memory-mb",
  "--output-kb",
  "--backend",
];

export async function toolRunUnderPolicy(
  argv: readonly string[],
  options: { policy: string; name: string; state: string; input: unknown },
  io: CliIo,
): Promise<void> {
  const given = POLICY_OWNS.filter((flag) => argv.some((a) => a === flag || a.startsWith(`${flag}=`)));
  if (given.length > 0) {
    throw new WardenError(
      "USAGE",
      `${given.join(", ")} cannot be used with --policy: grants, limits and backend come from ${options.policy}; change the policy instead`,
    );
  }
  const runtime = createRuntime({ stateDir: resolve(options.state) });
  try {
    const policy = loadPolicyFor(runtime, options.policy);
    const tool = await loadToolUnderPolicy(runtime, policy, options.name);
    let output: unknown;
    try {
      output = await tool.call(options.input);
    } catch (error) {
      throw inPolicyTerms(error, policy, options.name);
    }
    io.stdout(`${JSON.stringify(output, null, 2)}\n`);
  } finally {
    await runtime.close();
  }
}

/** Appended to `warden tool run --help`. */
export const TOOL_RUN_POLICY_HELP = `
Under a policy:
  warden tool run NAME --policy FILE [--input JSON] [--state DIR]

  Runs the tool the policy names NAME with exactly the grants, limits and backend the policy gives it
  (--grant, --secret, --header, limit flags and --backend are refused). A tool the policy does not name does not run; a pinned
  tool whose definition or code changed is refused (TOOL_CHANGED). The policy load is audited.

  warden tool run read-file --policy policies/examples/docs/policy.yaml --input '{"path":"ARCHITECTURE.md"}'
`;
