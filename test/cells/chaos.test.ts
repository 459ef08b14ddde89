// Cells killed at random moments under a steady load of calls: no call hangs, no answer reaches the wrong
// caller, and the kernel's own state (handle tables, calls in flight, audit) stays consistent.
import { afterAll, expect, test } from "vitest";
import { createRuntime, type Runtime, type Tool, WardenError } from "../../runtime/index.ts";
import { tempDir, writeTool } from "../support/tools.ts";

/** The storm ends after this many kills; between two kills, some calls must have answered. */
const KILLS = 8;
const ANSWERS_BETWEEN_KILLS = 3;
/** How long the whole storm may take on a loaded 2-core machine before it counts as a hang. */
const STORM_HANG_MS = 60_000; // under the runner's 120 s test timeout (vitest.config.ts)
const LIMITS = { timeoutMs: 2_000, cpuMs: 1_000 };
/** Wall limit, the kernel's grace, a cell start and a busy machine: a call still waiting after this hung. */
const HANG_MS = 45_000;

let runtime: Runtime | undefined;
afterAll(() => runtime?.close());

/**
 * Each call stores its nonce through a handle, sleeps, and reads it back with two handle calls in flight at
 * once (so replies must be matched to requests inside a cell too), returning both with its input.
 */
const RUN = `
  await Promise.all([caps.kv.set(input.nonce, input.nonce), caps.kv.set(input.nonce + "!", input.caller)]);
  if (input.sleep) await caps.clock.sleep(input.sleep);
  const [stored, caller] = await Promise.all([caps.kv.get(input.nonce), caps.kv.get(input.nonce + "!")]);
  return { nonce: input.nonce, stored, caller };
`;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} hung for ${HANG_MS} ms`)), HANG_MS).unref(),
    ),
  ]);
}

test("random cell kills under load: every call ends, with its own answer or SANDBOX_CRASHED", async () => {
  const dir = tempDir();
  runtime = createRuntime({ cwd: dir, log: () => {} });
  const r = runtime;
  const files = [0, 1, 2].map(() =>
    writeTool(dir, { run: RUN, capabilities: { kv: { type: "kv" }, clock: { type: "clock" } } }),
  );
  const tools: Tool[] = [];
  for (const file of files)
    for (let i = 0; i < 2; i++)
      tools.push(await r.loadTool(file, { grants: { kv: "kv", clock: "clock" }, limits: LIMITS }));
  const tablesBefore = tools.map((t) => [...t.sandboxRecord.named.entries()]);

  let stop = false;
  let kills = 0;
  const outcomes = { ok: 0, crashed: 0 };
  // Kills wait for progress, not for a clock: after each kill, a few calls answer before the next one, so
  // however slowly a busy machine restarts cells, the storm mixes answers and crashes.
  const killer = (async () => {
    const deadline = performance.now() + STORM_HANG_MS;
    while (kills < KILLS) {
      if (performance.now() > deadline)
        throw new Error(`the storm hung: ${kills} kills, ${outcomes.ok} answers`);
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
      if (outcomes.ok < (kills + 1) * ANSWERS_BETWEEN_KILLS) continue;
      const live = r.cellReport().cells.filter((c) => c.state !== "dead" && c.placement && c.pid);
      const victim = live[Math.floor(Math.random() * live.length)];
      if (!victim || stop) continue;
      try {
        process.kill(victim.pid!, "SIGKILL");
        kills++;
      } catch (error) {
        // It died on its own between the report and the kill (ESRCH); anything else is a real failure.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
  })();

  let calls = 0;
  const callers = tools.map(async (tool, caller) => {
    while (!stop) {
      const nonce = `${caller}-${++calls}-${Math.random()}`;
      const sleep = Math.random() < 0.5 ? Math.floor(Math.random() * 50) : 0;
      try {
        const out = await within(tool.call({ nonce, sleep, caller }), `call ${nonce}`);
        expect(out).toEqual({ nonce, stored: nonce, caller });
        outcomes.ok++;
      } catch (error) {
        if (!(error instanceof WardenError)) throw error;
        expect(error.code, error.message).toBe("SANDBOX_CRASHED");
        outcomes.crashed++;
      }
    }
  });
  try {
    await killer;
  } finally {
    stop = true;
    await Promise.all(callers);
  }

  expect(kills).toBe(KILLS);
  expect(outcomes.crashed).toBeGreaterThan(0);
  expect(outcomes.ok).toBeGreaterThan(outcomes.crashed);

  // Every tool answers again, in a fresh cell where its old one was killed.
  for (const [caller, tool] of tools.entries()) {
    const nonce = `after-${caller}`;
    expect(await within(tool.call({ nonce, caller }), "a call after the storm")).toEqual({
      nonce,
      stored: nonce,
      caller,
    });
  }

  // The kernel's state: nothing left in flight or running, the same handles under the same descriptors.
  for (const [i, tool] of tools.entries()) {
    expect(tool.sandboxRecord.inFlight).toBe(0);
    expect(tool.sandboxRecord.running).toBe(false);
    expect([...tool.sandboxRecord.named.entries()]).toEqual(tablesBefore[i]);
  }
  // One audit record per call that reached its sandbox, allowed exactly when the call succeeded (a call whose
  // fresh sandbox died while starting fails before it runs, and runtime/tool.ts records no run for it);
  // handle calls only from our sandboxes.
  const ids = new Set(tools.map((t) => t.sandboxRecord.id));
  const runs = r.auditRecords.filter((a) => a.op === "run");
  expect(runs.filter((a) => a.decision === "allow")).toHaveLength(outcomes.ok + tools.length);
  const crashes = runs.filter((a) => a.decision !== "allow");
  expect(crashes.length).toBeLessThanOrEqual(outcomes.crashed);
  for (const a of crashes) expect(a.code).toBe("SANDBOX_CRASHED");
  for (const a of r.auditRecords) if (a.event === "call") expect(ids).toContain(a.sandbox);
});
