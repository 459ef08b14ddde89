// The two cases that used to take a process down or run seconds past a limit, through `warden tool run`
// with sandboxes in cells: each ends with exit code 1 and the JSON error line, never a signal or a hang.
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { type CliRun, runCli } from "../support/cli.ts";
import { tempDir, writeTool } from "../support/tools.ts";

/** A generous hang bound: the wall limit, the kernel's grace, process starts, and a busy machine. */
const HANG_MS = 50_000;

const cli = (args: string[]) => runCli(args, { killAfterMs: HANG_MS });

function errorLine(r: CliRun): { code: string; message: string } {
  const last = r.stderr.trim().split("\n").at(-1) ?? "";
  return (JSON.parse(last) as { error: { code: string; message: string } }).error;
}

describe.concurrent("warden tool run with sandboxes in cells", () => {
  test("new Array(6e7).fill(0) under --memory-mb 64 exits 1 with LIMIT_EXCEEDED", async () => {
    const dir = tempDir();
    const file = writeTool(dir, { run: "new Array(6e7).fill(0); return 1;" });
    const r = await cli(["tool", "run", file, "--memory-mb", "64", "--state", join(dir, "state")]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(errorLine(r).code).toBe("LIMIT_EXCEEDED");
    expect(r.ms).toBeLessThan(HANG_MS);
  });

  test("10n ** 10000000n under --timeout-ms 300 exits 1 with LIMIT_EXCEEDED", async () => {
    const dir = tempDir();
    const file = writeTool(dir, { run: "return String(10n ** 10000000n).length;" });
    const r = await cli(["tool", "run", file, "--timeout-ms", "300", "--state", join(dir, "state")]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatchObject({ code: "LIMIT_EXCEEDED" });
    expect(errorLine(r).message).toMatch(/exceeded its (wall-time limit of 300 ms|CPU-time limit)/);
    expect(r.ms).toBeLessThan(HANG_MS);
  });

  test("--isolation takes cell or in-process", async () => {
    const dir = tempDir();
    const file = writeTool(dir, { run: "return 'fine';" });
    const ok = await cli(["tool", "run", file, "--isolation", "in-process", "--state", join(dir, "state")]);
    expect(JSON.parse(ok.stdout)).toBe("fine");
    const bad = await cli(["tool", "run", file, "--isolation", "vm", "--state", join(dir, "state")]);
    expect(bad.code).toBe(2);
    expect(errorLine(bad)).toEqual({
      code: "USAGE",
      message: '--isolation takes cell or in-process, got "vm"',
    });
  });

  test("warden cells reports each layer and proves a cell starts", async () => {
    const r = await cli(["cells", "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      isolation: string;
      layers: Array<{ name: string; active: boolean; detail: string }>;
      probe: { startMs: number; warmMs: number };
    };
    expect(report.isolation).toBe("cell");
    expect(report.layers.map((l) => l.name)).toContain("bubblewrap");
    expect(report.probe.warmMs).toBeGreaterThan(0);
  });
});
