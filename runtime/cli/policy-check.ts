// `warden policy check` and `warden policy explain`: is a policy valid, and what it lets each tool do, in words.
import { parseArgs } from "node:util";
import { WardenError } from "../errors.ts";
import { loadPolicy, secretsUsed } from "../policy/compile.ts";
import { checkDefinitions } from "../policy/definitions.ts";
import { explainPolicy } from "../policy/explain.ts";
import { policyEnv } from "../policy/run.ts";
import { createRuntime, type Runtime } from "../runtime.ts";
import type { CliIo } from "./commands.ts";

export const POLICY_CHECK_HELP = `warden policy check: check a policy file; every problem is listed with its line and field.

Usage:
  warden policy check FILE

Loads each tool (without granting or calling it) to check what only its definition says: that the policy
names it by its defineTool name, and that every grant is for a capability it declares, of that type.
Agents are checked too: their model grant, that every tool they may call is named in tools: or servers:,
their budgets (a cost budget needs a priced model), and that their source module exists.
Exit code 0 when the policy is valid; 1 (POLICY_INVALID) when it is not.

Example:
  warden policy check policies/examples/docs/policy.yaml
`;

export const POLICY_EXPLAIN_HELP = `warden policy explain: say in plain words what each tool may do under a policy, and what it may not.

Usage:
  warden policy explain FILE [--tool NAME | --agent NAME]

Options:
  --tool NAME   only this tool
  --agent NAME  only this agent: its model, the tools it may call, its budgets

Example:
  warden policy explain policies/examples/web/policy.yaml
`;

/** A runtime used only for its kinds and backends: in memory, never given a tool to run. */
export async function withRuntime<T>(fn: (runtime: Runtime) => Promise<T> | T): Promise<T> {
  const runtime = createRuntime();
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

function oneFile(command: string, positionals: string[], what = "FILE"): string {
  if (positionals.length !== 1) {
    throw new WardenError(
      "USAGE",
      `warden policy ${command} takes one ${what}, got ${positionals.length}; see --help`,
    );
  }
  return positionals[0]!;
}

export async function policyCheck(argv: string[], io: CliIo): Promise<void> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} });
  const file = oneFile("check", positionals);
  await withRuntime(async (runtime) => {
    try {
      const policy = loadPolicy(file, policyEnv(runtime));
      const problems = await checkDefinitions(runtime, policy);
      if (problems.length > 0) {
        const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
        throw new WardenError(
          "POLICY_INVALID",
          `policy ${file} is not valid (${count}):\n${problems.map((p) => `${file}: ${p}`).join("\n")}`,
        );
      }
      const names = [...policy.tools.keys()];
      const servers = [...policy.servers.values()].map((s) => `${s.name}: ${s.tools.join(", ")}`);
      const serving = servers.length
        ? `; ${servers.length} MCP server${servers.length === 1 ? "" : "s"} (${servers.join("; ")})`
        : "";
      const agents = [...policy.agents.keys()];
      const agentsLine = agents.length
        ? `; ${agents.length} agent${agents.length === 1 ? "" : "s"} (${agents.join(", ")})`
        : "";
      io.stdout(
        `${file}: valid; ${names.length} tool${names.length === 1 ? "" : "s"}${names.length ? ` (${names.join(", ")})` : ""}${serving}${agentsLine}\n`,
      );
      // Names only: which tool's requests carry which credential, never a value or where it is kept.
      for (const tool of policy.tools.values()) {
        const used = secretsUsed(tool);
        if (used.length > 0)
          io.stdout(`  ${tool.name} uses the secret${used.length > 1 ? "s" : ""} ${used.join(", ")}\n`);
      }
    } catch (error) {
      if (error instanceof WardenError && error.code === "POLICY_INVALID") io.stdout(`${error.message}\n`);
      throw error;
    }
  });
}

export async function policyExplain(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { tool: { type: "string" }, agent: { type: "string" } },
  });
  const file = oneFile("explain", positionals);
  if (values.tool !== undefined && values.agent !== undefined)
    throw new WardenError("USAGE", "--tool and --agent cannot be used together: explain one or the other");
  await withRuntime((runtime) => {
    const policy = loadPolicy(file, policyEnv(runtime));
    if (values.agent !== undefined && !policy.agents.has(values.agent)) {
      throw new WardenError(
        "USAGE",
        `${file} names no agent "${values.agent}"; it names: ${[...policy.agents.keys()].join(", ") || "none"}`,
      );
    }
    if (values.tool !== undefined && !policy.tools.has(values.tool)) {
      throw new WardenError(
        "USAGE",
        `${file} names no tool "${values.tool}", so it would not run under it; it names: ${[...policy.tools.keys()].join(", ") || "none"}`,
      );
    }
    io.stdout(explainPolicy(policy, values.tool, values.agent));
  });
}
