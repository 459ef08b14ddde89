// Cells through the host API: sandboxes run in supervised processes by default, placed by source, and a
// cell that dies takes only its own calls with it.
import { readFileSync, realpathSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import type { Backend } from "../../runtime/isolates/types.ts";
import { failure } from "../support/failure.ts";
import { tempDir, writeTool } from "../support/tools.ts";

/** No call may hang: every wait in these tests is bounded well past the limits involved. */
const HANG_MS = 45_000;

let runtimes: Runtime[] = [];
afterEach(async () => {
  for (const r of runtimes) await r.close();
  runtimes = [];
});

function runtime(options: Parameters<typeof createRuntime>[0] = {}): Runtime {
  const r = createRuntime({ cwd: tempDir(), log: () => {}, ...options });
  runtimes.push(r);
  return r;
}

function cellOf(r: Runtime, file: string) {
  const placement = `source:${realpathSync(file)}`;
  const cells = r.cellReport().cells.filter((c) => c.placement === placement && c.state !== "dead");
  expect(cells).toHaveLength(1);
  return cells[0]!;
}

/** Whether a process has ended (a zombie has: its parent just has not reaped it yet), waiting up to 15 s. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, "utf8");
    } catch {
      return true;
    }
    if (/^State:\s+Z/m.test(status)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function within<T>(p: Promise<T>, ms = HANG_MS): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms).unref()),
  ]);
}

describe("placement", () => {
  test("a tool runs in a cell by default, and its warm calls reuse that cell", async () => {
    const dir = tempDir();
    const r = runtime({ cwd: dir });
    const file = writeTool(dir, { run: "return input;" });
    const tool = await r.loadTool(file);
    expect(r.isolation).toBe("cell");
    const { pid } = cellOf(r, file);
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    for (let i = 0; i < 5; i++) expect(await tool.call({ i })).toEqual({ i });
    expect(cellOf(r, file).pid).toBe(pid);
  });

  test("tools from different files never share a cell; loads of one file do", async () => {
    const dir = tempDir();
    const r = runtime({ cwd: dir });
    const a = writeTool(dir, { run: "return 'a';" });
    const b = writeTool(dir, { run: "return 'b';" });
    const [a1, a2, b1] = [await r.loadTool(a), await r.loadTool(a), await r.loadTool(b)];
    expect(await Promise.all([a1.call({}), a2.call({}), b1.call({})])).toEqual(["a", "a", "b"]);
    expect(cellOf(r, a).sandboxes).toBe(2);
    expect(cellOf(r, b).sandboxes).toBe(1);
    expect(cellOf(r, a).pid).not.toBe(cellOf(r, b).pid);
  });

  test('with cells.share "all" the operator lets tools of every source share a cell', async () => {
    const dir = tempDir();
    const r = runtime({ cwd: dir, cells: { share: "all" } });
    await r.loadTool(writeTool(dir, { run: "return 1;" }));
    await r.loadTool(writeTool(dir, { run: "return 2;" }));
    const live = r.cellReport().cells.filter((c) => c.placement !== undefined);
    expect(live).toHaveLength(1);
    expect(live[0]!.sandboxes).toBe(2);
  });

  test("a cell starts with an empty environment: no secret of the kernel's is inherited", async () => {
    process.env.WARDEN_CELL_CANARY = "canary-not-for-cells";
    try {
      const dir = tempDir();
      const r = runtime({ cwd: dir });
      const file = writeTool(dir, { run: "return 1;" });
      await r.loadTool(file);
      const environ = readFileSync(`/proc/${cellOf(r, file).pid}/environ`, "utf8");
      expect(environ).toBe("");
    } finally {
      delete process.env.WARDEN_CELL_CANARY;
    }
  });

  test("in-process isolation is there for embedders that ask for it, per runtime or per load", async () => {
    const dir = tempDir();
    const r = runtime({ cwd: dir, isolation: "in-process" });
    const file = writeTool(dir, { run: "return 'here';" });
    expect(await (await r.loadTool(file)).call({})).toBe("here");
    expect(r.cellReport().cells).toEqual([]);
    expect(await (await r.loadTool(file, { isolation: "cell" })).call({})).toBe("here");
    expect(cellOf(r, file).sandboxes).toBe(1);
    expect(await (await r.loadTool(file, { backend: "v8:cell" })).call({})).toBe("here");
    expect(cellOf(r, file).sandboxes).toBe(2);
  });

  test("QuickJS runs in a cell too: a cell finds an engine by its name", async () => {
    const dir = tempDir();
    const r = runtime({ cwd: dir });
    const file = writeTool(dir, { run: "return 'from quickjs';" });
    const tool = await r.loadTool(file, { backend: "quickjs:cell" });
    expect(await tool.call({})).toBe("from quickjs");
    expect(cellOf(r, file).sandboxes).toBe(1);
  });

  test("a misnamed isolation or a backend that cannot run in a cell is a USAGE error that says what to do", async () => {
    const dir = tempDir();
    const custom: Backend = { name: "custom", create: () => Promise.reject(new Error("unused")) };
    const r = runtime({ cwd: dir, backends: [custom] });
    const file = writeTool(dir, { run: "return 1;" });
    const bad = await failure(r.loadTool(file, { backend: "v8:elsewhere" }));
    expect(bad.code).toBe("USAGE");
    expect(bad.message).toContain('"v8:cell" or "v8:in-process"');
    const stuck = await failure(r.loadTool(file, { backend: "custom" }));
    expect(stuck.code).toBe("USAGE");
    expect(stuck.message).toContain('backend "custom" cannot run in a cell');
    expect(stuck.message).toContain('"in-process"');
  });
});

describe("supervision", () => {
  /** A tool that answers calls, or spins until its cell is killed. */
  const SPIN = "if (input.spin) for (;;) {} return { echo: input.n };";

  test("a cell killed mid-call fails that call; a tool of another source keeps answering; the next call and a new load work", async () => {
    const dir = tempDir();
    const r = runtime({ cwd: dir });
    const victimFile = writeTool(dir, { run: SPIN });
    const victim = await r.loadTool(victimFile, { limits: { timeoutMs: 10_000, cpuMs: 10_000 } });
    const bystander = await r.loadTool(writeTool(dir, { run: "return input.n * 2;" }));
    const spinning = victim.call({ spin: true });
    const { pid } = cellOf(r, victimFile);
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(pid!, "SIGKILL");
    const error = await within(failure(spinning));
    expect(error.code).toBe("SANDBOX_CRASHED");
    expect(error.message).toMatch(
      /cell was killed by SIGKILL during the tool call; the next call starts a fresh one/,
    );
    expect(await bystander.call({ n: 21 })).toBe(42);
    expect(await victim.call({ n: 1 })).toEqual({ echo: 1 });
    expect(cellOf(r, victimFile).pid).not.toBe(pid);
    const again = await r.loadTool(victimFile);
    expect(await again.call({ n: 2 })).toEqual({ echo: 2 });
  });

  test("new Array(6e7).fill(0) in a 64 MiB sandbox ends on a limit; the kernel and other cells carry on", async () => {
    const dir = tempDir();
    const r = runtime({ cwd: dir });
    const hog = await r.loadTool(
      writeTool(dir, { run: "if (input.go) new Array(6e7).fill(0); return 'ok';" }),
      {
        limits: { memoryMb: 64 },
      },
    );
    const other = await r.loadTool(writeTool(dir, { run: "return 'other';" }));
    const started = performance.now();
    const error = await within(failure(hog.call({ go: true })));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(performance.now() - started).toBeLessThan(hog.limits.timeoutMs + HANG_MS);
    expect(await other.call({})).toBe("other");
    expect(await hog.call({})).toBe("ok");
  });

  test("10n ** 10000000n under a 300 ms wall limit ends on a limit, and the next call does not wait for it", async () => {
    const dir = tempDir();
    const r = runtime({ cwd: dir });
    const file = writeTool(dir, {
      run: "if (input.go) return String(10n ** 10000000n).length; return 'ok';",
    });
    const tool = await r.loadTool(file, { limits: { timeoutMs: 300 } });
    const { pid } = cellOf(r, file);
    const error = await within(failure(tool.call({ go: true })));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toMatch(/limit/);
    expect(await within(tool.call({}))).toBe("ok");
    // The cell whose thread was still computing was retired, not reused.
    expect(cellOf(r, file).pid).not.toBe(pid);
  });

  test("closing a runtime stops its cells", async () => {
    const dir = tempDir();
    const r = createRuntime({ cwd: dir });
    const file = writeTool(dir, { run: "return 1;" });
    await r.loadTool(file);
    const pids = r.cellReport().cells.map((c) => c.pid!);
    await r.close();
    for (const pid of pids) expect(await gone(pid)).toBe(true);
  });
});

describe("hardening report", () => {
  test("every layer says whether it is active here, and why not when it is not", () => {
    const report = runtime().cellReport();
    const names = report.layers.map((l) => l.name);
    expect(names).toEqual([
      "environment",
      "heap",
      "rlimits",
      "user",
      "no-new-privileges",
      "bubblewrap",
      "seccomp",
      "process-memory",
    ]);
    for (const layer of report.layers) expect(layer.detail.length).toBeGreaterThan(10);
    expect(report.layers.find((l) => l.name === "environment")?.active).toBe(true);
  });

  test('cells.bwrap "off" reports bubblewrap as turned off', () => {
    const report = runtime({ cells: { bwrap: "off" } }).cellReport();
    const bwrap = report.layers.find((l) => l.name === "bubblewrap")!;
    expect(bwrap.active).toBe(false);
    expect(bwrap.detail).toContain("turned off");
  });
});
