// Resource exhaustion, as a table, against every backend: each ends on a limit with a clean error, the host
// stays responsive, and the next call gets a working sandbox.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime, WardenError } from "../../runtime/index.ts";
import { differencesIn, expectedOutcome } from "../support/skips.ts";
import { BACKENDS, type ToolSource, tempDir, writeTool } from "../support/tools.ts";

interface ExhaustionCase extends ToolSource {
  name: string;
  code: string;
  message?: RegExp;
  grants?: Record<string, string>;
  /** Wall-time cases shorten the wall limit; the rest keep it wide so CPU contention cannot make them end on it. */
  timeoutMs?: number;
  /**
   * Memory cases widen the CPU limit: near a heap limit V8 collects again and again, and on a busy machine that
   * CPU time reached 300 ms before the heap limit did.
   */
  cpuMs?: number;
}

const LIMITS = { timeoutMs: 10_000, cpuMs: 300, memoryMb: 32, outputKb: 64 };
const SOME_LIMIT = /exceeded (its wall-time|its CPU-time|its memory) limit/;

const CASES: ExhaustionCase[] = [
  { name: "busy loop", run: "for (;;) {}", code: "LIMIT_EXCEEDED", message: /CPU-time limit of 300 ms/ },
  {
    name: "busy loop after an await",
    run: "await null; for (;;) {}",
    code: "LIMIT_EXCEEDED",
    message: /CPU-time/,
  },
  {
    name: "microtask flood",
    run: "await new Promise(() => { const f = () => Promise.resolve().then(f); f(); });",
    code: "LIMIT_EXCEEDED",
    message: SOME_LIMIT, // CPU or memory, whichever the flood exhausts first
  },
  {
    name: "a promise that never settles",
    run: "await new Promise(() => {});",
    timeoutMs: 1000,
    code: "LIMIT_EXCEEDED",
    message: /wall-time limit of 1000 ms/,
  },
  {
    name: "ReDoS",
    run: "return /^(a+)+$/.test('a'.repeat(40) + 'b');",
    code: "LIMIT_EXCEEDED",
    message: SOME_LIMIT,
  },
  {
    name: "Atomics.wait on a shared buffer",
    run: "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);",
    code: "LIMIT_EXCEEDED",
    message: SOME_LIMIT,
  },
  {
    name: "deep recursion",
    run: "const f = (n) => f(n + 1) + 1; return f(0);",
    code: "TOOL_ERROR",
    message: /Maximum call stack/,
  },
  {
    name: "string doubling bomb",
    run: "let s = 'a'; for (;;) s += s;",
    code: "TOOL_ERROR",
    message: /Invalid string length/,
  },
  {
    name: "array growth bomb",
    run: "const a = []; for (;;) a.push(new Array(1e6).fill(1.5));",
    cpuMs: 10_000,
    code: "LIMIT_EXCEEDED",
    message: /memory limit of 32 MiB/,
  },
  {
    name: "one huge Array.fill",
    run: "new Array(6e7).fill(0); return 1;",
    code: "LIMIT_EXCEEDED",
    message: SOME_LIMIT,
  },
  {
    name: "BigInt power",
    run: "return String(10n ** 10000000n).length;",
    code: "LIMIT_EXCEEDED",
    message: SOME_LIMIT,
  },
  {
    name: "output flood",
    run: "return 'x'.repeat(1 << 20);",
    code: "LIMIT_EXCEEDED",
    message: /output limit of 64 KiB/,
  },
  {
    name: "log flood",
    capabilities: { log: { type: "log" } },
    grants: { log: "log" },
    run: "const line = 'y'.repeat(1 << 16); for (;;) await caps.log.info(line);",
    code: "LIMIT_EXCEEDED",
    message: /log output passed/,
  },
  {
    name: "handle calls fired in a loop without waiting",
    capabilities: { kv: { type: "kv" } },
    grants: { kv: "kv" },
    run: "const ps = []; for (let i = 0; i < 1000; i++) ps.push(caps.kv.get('k')); await Promise.all(ps);",
    // Refused by the guest runtime before reaching the kernel, so the kernel reports it as the tool's own failure.
    code: "TOOL_ERROR",
    message: /LIMIT_EXCEEDED: more than 64 handle calls in flight/,
  },
  {
    name: "sleeping past the wall limit",
    capabilities: { clock: { type: "clock" } },
    grants: { clock: "clock" },
    run: "await caps.clock.sleep(60_000);",
    timeoutMs: 1000,
    code: "LIMIT_EXCEEDED",
    message: /wall-time/,
  },
  {
    name: "array buffers past the heap limit",
    run: "const k = []; for (;;) k.push(new Uint8Array(8 << 20).fill(1));",
    cpuMs: 10_000,
    code: "TOOL_ERROR",
    message: /Array buffer allocation failed/,
  },
  {
    name: "busy loop at load time",
    top: "for (;;) {}",
    run: "return 1;",
    code: "LIMIT_EXCEEDED",
    message: /loading the tool exceeded/,
  },
];

describe.each(BACKENDS)("exhaustion on %s", (backend) => {
  let runtime: Runtime;
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    runtime = createRuntime({ cwd: dir, log: () => {} });
  });
  afterAll(() => runtime.close());

  test.each(CASES)("$name", async (c) => {
    const file = writeTool(dir, { ...c, name: undefined });
    const failure = await (async () => {
      const limits = {
        ...LIMITS,
        timeoutMs: c.timeoutMs ?? LIMITS.timeoutMs,
        cpuMs: c.cpuMs ?? LIMITS.cpuMs,
      };
      const tool = await runtime.loadTool(file, { grants: c.grants ?? {}, backend, limits });
      try {
        await tool.call({});
      } finally {
        await tool.dispose();
      }
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    // A backend may end a case differently only where test/support/skips.ts says so, and why.
    const expected = expectedOutcome("exhaustion", c.name, backend, c);
    expect(failure).toBeInstanceOf(WardenError);
    expect((failure as WardenError).code).toBe(expected.code);
    if (expected.message) expect((failure as WardenError).message).toMatch(expected.message);
    // The host still answers, in a fresh sandbox.
    const probe = await runtime.loadTool(writeTool(dir, { run: "return 'alive';" }), { backend });
    expect(await probe.call({})).toBe("alive");
    await probe.dispose();
  });

  test("every difference listed for this table names one of its cases", () => {
    const names = new Set(CASES.map((c) => c.name));
    for (const name of differencesIn("exhaustion")) expect(names).toContain(name);
  });

  test("a tool whose sandbox a limit killed gets a fresh one on its next call", async () => {
    const tool = await runtime.loadTool(writeTool(dir, { run: "if (input.spin) for (;;) {} return 'ok';" }), {
      backend,
      limits: LIMITS,
    });
    await expect(tool.call({ spin: true })).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    expect(await tool.call({ spin: false })).toBe("ok");
    await tool.dispose();
  });
});
