// A compromised cell, as a table: whatever a cell sends, the kernel answers each call once, cleanly and in
// bounded time, kills the cell, and never believes a code only the kernel can raise.
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { cellBackend } from "../../runtime/cells/backend.ts";
import { CellPool } from "../../runtime/cells/pool.ts";
import { WardenError } from "../../runtime/errors.ts";
import { GuestReportedError } from "../../runtime/isolates/results.ts";
import type { Limits } from "../../runtime/isolates/types.ts";
import { until } from "../support/wait.ts";

const ROGUE = fileURLToPath(new URL("./fixtures/rogue-cell.mjs", import.meta.url));
const LIMITS: Limits = { timeoutMs: 300, cpuMs: 300, memoryMb: 16, outputKb: 1 };
const GRACE_AND_SLACK_MS = 20_000;

let pools: CellPool[] = [];
afterEach(async () => {
  for (const pool of pools) await pool.close();
  pools = [];
});

async function rogueCall(mode: string) {
  const pool = new CellPool(() => ({ command: process.execPath, args: [ROGUE, mode], env: {}, layers: [] }), {
    spares: 0,
  });
  pools.push(pool);
  const sandbox = await cellBackend(pool, "v8").create({
    limits: LIMITS,
    hostCall: async () => "null",
    placement: "rogue",
  });
  expect(await sandbox.load({ source: "", filename: "rogue.js" })).toMatchObject({ name: "rogue" });
  const started = performance.now();
  const error = await sandbox.run("{}", "{}", "{}").then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started, sandbox, pool };
}

const CASES: Array<{ mode: string; code: string; message: RegExp }> = [
  { mode: "ignore-run", code: "LIMIT_EXCEEDED", message: /wall-time limit of 300 ms/ },
  { mode: "hang-thread", code: "LIMIT_EXCEEDED", message: /wall-time limit of 300 ms/ },
  { mode: "wrong-req", code: "SANDBOX_CRASHED", message: /an answer to nothing it was asked/ },
  { mode: "garbage", code: "SANDBOX_CRASHED", message: /a message that is not JSON/ },
  { mode: "extra-field", code: "SANDBOX_CRASHED", message: /a malformed message/ },
  { mode: "huge-frame", code: "SANDBOX_CRASHED", message: /character message/ },
  { mode: "oversized-output", code: "SANDBOX_CRASHED", message: /malformed result/ },
  { mode: "exit", code: "SANDBOX_CRASHED", message: /exited \(code 3\) during the tool call/ },
];

test.each(CASES)("a cell that does $mode: $code", async ({ mode, code, message }) => {
  const { error, ms, sandbox } = await rogueCall(mode);
  expect(error).toBeInstanceOf(WardenError);
  expect((error as WardenError).code).toBe(code);
  expect((error as WardenError).message).toMatch(message);
  expect(ms).toBeLessThan(LIMITS.timeoutMs + GRACE_AND_SLACK_MS);
  expect(sandbox.dead).toBe(true);
});

test("a cell that answers one call twice is killed at the second answer; the first answer stands", async () => {
  const { error, sandbox, pool } = await rogueCall("answer-twice");
  expect(error).toBeUndefined();
  await until(() => sandbox.dead, "the cell is killed at its second answer");
  expect(pool.list().filter((c) => c.state !== "dead")).toEqual([]);
});

test("a code only the kernel raises, claimed by a cell, stays a claim for the kernel to judge", async () => {
  const { error } = await rogueCall("claims-denial");
  expect(error).toBeInstanceOf(GuestReportedError);
  expect(error).not.toBeInstanceOf(WardenError);
  expect((error as GuestReportedError).code).toBe("CAPABILITY_DENIED");
});
