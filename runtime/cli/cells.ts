// `warden cells`: what isolation this host gives sandboxes (each hardening layer, and why one is missing),
// proved by starting one cell and running a tool in it.
import { parseArgs } from "node:util";
import { cellBackend } from "../cells/backend.ts";
import { type BwrapMode, cellLaunch } from "../cells/hardening.ts";
import { CellPool } from "../cells/pool.ts";
import { WardenError } from "../errors.ts";
import { DEFAULT_LIMITS } from "../isolates/types.ts";
import type { CliIo } from "./commands.ts";

export const CELLS_HELP = `warden cells: report how sandboxes are isolated on this host, and check a cell starts.

Usage:
  warden cells [--json] [--bwrap auto|require|off]

Sandboxes run in cells: supervised child processes, so a crash or a runaway builtin in one cannot take
warden down. Around each cell warden adds what the host allows; every layer is listed as on or off, with
why. A cell is then started and a tool run in it; if that fails, the command fails.

Options:
  --json              print the report as one JSON object
  --bwrap MODE        auto (default): use bubblewrap if it works here; require: fail without it; off

Example:
  warden cells
`;

const PROBE = `import { defineTool, z } from "warden/sdk";
export default defineTool({ name: "probe", description: "cell probe", input: z.any(), output: z.any(),
  capabilities: {}, async run(input) { return input; } });`;

export async function cellsCommand(argv: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { json: { type: "boolean", default: false }, bwrap: { type: "string", default: "auto" } },
  });
  const mode = values.bwrap;
  if (mode !== "auto" && mode !== "require" && mode !== "off")
    throw new WardenError("USAGE", `--bwrap takes auto, require or off, got "${mode}"`);
  const launch = cellLaunch({ bwrap: mode as BwrapMode });
  const probe = await probeCell(mode as BwrapMode);
  if (values.json) {
    io.stdout(`${JSON.stringify({ isolation: "cell", layers: launch.layers, probe })}\n`);
    return;
  }
  for (const layer of launch.layers)
    io.stdout(`${layer.active ? "on " : "off"}  ${layer.name.padEnd(18)} ${layer.detail}\n`);
  io.stdout(
    `\na cell started and ran a tool: first call after ${probe.startMs} ms, a warm call ${probe.warmMs} ms\n`,
  );
}

/** Starts one cell, loads a tool in it and calls it twice; any failure is the command's failure. */
async function probeCell(mode: BwrapMode): Promise<{ startMs: number; warmMs: number }> {
  const pool = new CellPool(() => cellLaunch({ bwrap: mode }), { spares: 0 });
  try {
    const started = performance.now();
    const sandbox = await cellBackend(pool, "v8").create({
      limits: DEFAULT_LIMITS,
      hostCall: async () =>
        JSON.stringify({ ok: false, error: { code: "CAPABILITY_DENIED", message: "none" } }),
      placement: "probe",
    });
    await sandbox.load({ source: PROBE, filename: "probe.js" });
    await sandbox.run('"cold"', "{}", "{}");
    const startMs = Math.round(performance.now() - started);
    const warm = performance.now();
    const outcome = await sandbox.run('"warm"', "{}", "{}");
    const warmMs = Math.round((performance.now() - warm) * 100) / 100;
    if (outcome.outputJson !== '"warm"')
      throw new WardenError("SANDBOX_CRASHED", "a cell answered the probe with the wrong output");
    await sandbox.dispose();
    return { startMs, warmMs };
  } finally {
    await pool.close();
  }
}
