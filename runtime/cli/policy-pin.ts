// `warden policy pin`: writes each tool's digest (definition and code) into the policy file.
import { parseArgs } from "node:util";
import { WardenError } from "../errors.ts";
import { pinPolicy } from "../policy/pin.ts";
import type { CliIo } from "./commands.ts";
import { withRuntime } from "./policy-check.ts";

export const POLICY_PIN_HELP = `warden policy pin: record a sha256 digest of each tool's definition and code in the policy file.

Usage:
  warden policy pin FILE [--tool NAME]

Loads each tool (without granting or calling it) to read its name, description, input and output schemas
and declared capabilities, hashes them with its code bytes, and writes digest and parts next to its
source. Comments and layout are kept. A pinned tool that changes is refused (TOOL_CHANGED) until pinned again.

Options:
  --tool NAME   pin only this tool

Example:
  warden policy pin policies/examples/docs/policy.yaml
`;

export async function policyPin(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { tool: { type: "string" } },
  });
  if (positionals.length !== 1) {
    throw new WardenError("USAGE", `warden policy pin takes one FILE, got ${positionals.length}; see --help`);
  }
  const results = await withRuntime((runtime) => pinPolicy(runtime, positionals[0]!, values.tool));
  for (const r of results) io.stdout(`${r.tool}: ${r.digest}${r.changed ? "" : " (unchanged)"}\n`);
}
