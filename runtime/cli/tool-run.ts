// `warden tool run`: parse flags, load one tool with its grants and limits, call it once, print its output.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ISOLATIONS, type Isolation } from "../cells/index.ts";
import { WardenError } from "../errors.ts";
import type { Limits } from "../isolates/types.ts";
import { createRuntime, type GrantInput } from "../runtime.ts";
import { parseSecretFlag, type SecretSource } from "../secrets.ts";
import type { CliIo } from "./commands.ts";
import { toolRunUnderPolicy } from "./policy-run.ts";

const LIMIT_FLAGS: Record<string, keyof Limits> = {
  "timeout-ms": "timeoutMs",
  "cpu-ms": "cpuMs",
  "memory-mb": "memoryMb",
  "output-kb": "outputKb",
};

export async function toolRun(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      grant: { type: "string", multiple: true, default: [] },
      secret: { type: "string", multiple: true, default: [] },
      header: { type: "string", multiple: true, default: [] },
      input: { type: "string" },
      "timeout-ms": { type: "string" },
      "cpu-ms": { type: "string" },
      "memory-mb": { type: "string" },
      "output-kb": { type: "string" },
      backend: { type: "string", default: "v8" },
      isolation: { type: "string", default: "cell" },
      state: { type: "string", default: ".warden" },
      policy: { type: "string" },
    },
  });
  if (positionals.length !== 1) {
    throw new WardenError(
      "USAGE",
      `warden tool run takes one tool FILE, got ${positionals.length}; see warden tool run --help`,
    );
  }
  const grants: Record<string, string> = {};
  for (const g of values.grant) {
    const eq = g.indexOf("=");
    if (eq <= 0)
      throw new WardenError("USAGE", `--grant takes NAME=SPEC (e.g. files=fs:read:./data), got "${g}"`);
    const name = g.slice(0, eq);
    if (Object.hasOwn(grants, name)) throw new WardenError("USAGE", `--grant ${name} is given twice`);
    grants[name] = g.slice(eq + 1);
  }
  const secrets: Record<string, SecretSource> = {};
  for (const s of values.secret) {
    const { name, source } = parseSecretFlag(s);
    if (Object.hasOwn(secrets, name)) throw new WardenError("USAGE", `--secret ${name} is given twice`);
    secrets[name] = source;
  }
  const headers = parseHeaderFlags(values.header, grants);
  const limits: Partial<Limits> = {};
  for (const [flag, key] of Object.entries(LIMIT_FLAGS)) {
    const raw = values[flag as keyof typeof values];
    if (typeof raw !== "string") continue;
    if (!/^\d+$/.test(raw)) throw new WardenError("USAGE", `--${flag} takes a whole number, got "${raw}"`);
    limits[key] = Number(raw);
  }
  const input = parseInput(values.input);
  if (values.policy !== undefined) {
    // Under a policy the positional is the tool's name in it, and the policy alone says what it gets.
    return toolRunUnderPolicy(
      argv,
      { policy: values.policy, name: positionals[0]!, state: values.state, input },
      io,
    );
  }
  const isolation = values.isolation;
  if (!(ISOLATIONS as readonly string[]).includes(isolation))
    throw new WardenError("USAGE", `--isolation takes ${ISOLATIONS.join(" or ")}, got "${isolation}"`);
  // One call, then exit: a spare cell started ahead would never be used.
  const runtime = createRuntime({
    stateDir: resolve(values.state),
    isolation: isolation as Isolation,
    cells: { spares: 0 },
    secrets,
  });
  try {
    const withHeaders: Record<string, GrantInput> = { ...grants };
    for (const [name, bound] of Object.entries(headers))
      withHeaders[name] = { spec: grants[name]!, headers: bound };
    const tool = await runtime.loadTool(positionals[0]!, {
      grants: withHeaders,
      limits,
      backend: values.backend,
    });
    const output = await tool.call(input);
    io.stdout(`${JSON.stringify(output, null, 2)}\n`);
  } finally {
    await runtime.close();
  }
}

/** `--header GRANT=Name: value` (curl's form, after the grant's name), by grant. */
function parseHeaderFlags(flags: readonly string[], grants: Record<string, string>) {
  const out: Record<string, Record<string, string>> = {};
  for (const flag of flags) {
    const match = /^([^=]+)=([^:]+):[ \t]*(.*)$/s.exec(flag);
    if (!match) {
      throw new WardenError(
        "USAGE",
        `--header takes GRANT=Name: value (e.g. 'api=Authorization: Bearer \${secret:github}'), got "${flag}"`,
      );
    }
    const [, grant, name, value] = match;
    if (!Object.hasOwn(grants, grant!)) {
      throw new WardenError("USAGE", `--header names grant "${grant}", but no --grant ${grant}=... is given`);
    }
    out[grant!] ??= {};
    if (Object.hasOwn(out[grant!]!, name!))
      throw new WardenError("USAGE", `--header ${grant}=${name} is given twice`);
    out[grant!]![name!] = value!;
  }
  return out;
}

function parseInput(raw: string | undefined): unknown {
  if (raw === undefined) return {};
  const text = raw === "-" ? readFileSync(0, "utf8") : raw;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WardenError(
      "INVALID_INPUT",
      `--input is not valid JSON${raw === "-" ? " (read from stdin)" : ""}: ${text.slice(0, 80)}`,
    );
  }
}
