// Pre-started sandboxes: a load takes a ready one, and a sandbox from the pool is indistinguishable from a
// fresh one (no global, no module, no handle of an earlier tool), on every in-process engine.
import { describe, expect, test } from "vitest";
import { createRuntime } from "../../runtime/index.ts";
import { SandboxPool } from "../../runtime/isolates/pool.ts";
import { quickjsBackend } from "../../runtime/isolates/quickjs/index.ts";
import { DEFAULT_LIMITS } from "../../runtime/isolates/types.ts";
import { v8Backend } from "../../runtime/isolates/v8/index.ts";
import { ENGINES, tempDir, writeTool } from "../support/tools.ts";

const backends = { v8: v8Backend, quickjs: quickjsBackend };
/** Waits (up to 10 s, for a loaded machine) until the pool holds `spares` ready sandboxes. */
async function refilled(pool: SandboxPool, spares = 2): Promise<void> {
  for (let waited = 0; pool.spareCount < spares && waited < 10_000; waited += 20)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

/** A tool that counts its own calls in a global, and reports whether it saw anything left by another. */
const LEAKY = {
  top: "globalThis.loads = (globalThis.loads ?? 0) + 1;",
  run: `globalThis.calls = (globalThis.calls ?? 0) + 1;
        Object.prototype.polluted = "yes";
        return { loads: globalThis.loads, calls: globalThis.calls, polluted: ({}).polluted ?? null,
                 marker: globalThis.marker ?? null };`,
};

describe.each(ENGINES)("%s", (engine) => {
  test("the pool hands out ready sandboxes that hold nothing of the tools before them", async () => {
    const pool = new SandboxPool({ spares: 2 });
    const backend = pool.wrap(backends[engine]);
    const hostCall = async () => '{"ok":true,"value":null}';
    const source = `import { defineTool, z } from "warden/sdk";
      globalThis.marker = (globalThis.marker ?? 0) + 1;
      export default defineTool({ name: "g", description: "globals", input: z.any(), output: z.any(),
        async run() { globalThis.seen = (globalThis.seen ?? 0) + 1; return { marker: globalThis.marker, seen: globalThis.seen }; } });`;
    try {
      for (let i = 0; i < 4; i++) {
        const sandbox = await backend.create({ limits: DEFAULT_LIMITS, hostCall });
        const descriptor = (await sandbox.load({ source, filename: "g.js" })) as { outputSchema: unknown };
        const schema = JSON.stringify(descriptor.outputSchema);
        expect(JSON.parse((await sandbox.run("{}", "{}", schema)).outputJson)).toEqual({
          marker: 1,
          seen: 1,
        });
        expect(JSON.parse((await sandbox.run("{}", "{}", schema)).outputJson)).toEqual({
          marker: 1,
          seen: 2,
        });
        await sandbox.dispose();
        await refilled(pool); // the refill runs once loads have paused
      }
      // The first load found the pool empty; every later one took a ready sandbox.
      expect(pool.taken).toBe(3);
    } finally {
      await pool.close();
    }
  }, 60_000);

  test("through the runtime: a tool that writes globals never sees them in the next sandbox", async () => {
    const dir = tempDir("warden-pool-");
    const runtime = createRuntime({ cwd: dir, isolation: "in-process", log: () => {} });
    try {
      const file = writeTool(dir, LEAKY);
      for (let i = 0; i < 3; i++) {
        const tool = await runtime.loadTool(file, { backend: engine });
        expect(await tool.call({})).toEqual({ loads: 1, calls: 1, polluted: "yes", marker: null });
        await tool.dispose();
        await refilled(runtime.sandboxPool);
      }
      // Two tools alive at once, each from the pool: still separate.
      const [a, b] = await Promise.all([
        runtime.loadTool(file, { backend: engine }),
        runtime.loadTool(file, { backend: engine }),
      ]);
      await a!.call({});
      expect(await b!.call({})).toEqual({ loads: 1, calls: 1, polluted: "yes", marker: null });
      expect(runtime.sandboxPool.taken).toBeGreaterThanOrEqual(3);
    } finally {
      await runtime.close();
    }
  }, 60_000);

  test("spares are per limits: a load with other limits never gets a sandbox made for different ones", async () => {
    const dir = tempDir("warden-pool-");
    const runtime = createRuntime({ cwd: dir, isolation: "in-process", log: () => {} });
    try {
      // ~38 MiB of doubles on either engine (8 bytes each unboxed in V8, a 16-byte value in QuickJS): well
      // inside the default 64 MiB, well past 16 MiB.
      const arrays = engine === "v8" ? 48 : 24;
      const file = writeTool(dir, {
        run: `const a = []; for (let i = 0; i < ${arrays}; i++) a.push(new Array(1e5).fill(i + 0.5)); return a.length;`,
      });
      const big = await runtime.loadTool(file, { backend: engine });
      expect(await big.call({})).toBe(arrays);
      await big.dispose();
      await refilled(runtime.sandboxPool);
      for (let i = 0; i < 2; i++) {
        // The pool holds 64 MiB spares; a 16 MiB tool must get a 16 MiB sandbox (the second time, a spare).
        const small = await runtime.loadTool(file, { backend: engine, limits: { memoryMb: 16 } });
        const error = await small.call({}).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: "LIMIT_EXCEEDED" });
        await small.dispose();
        await refilled(runtime.sandboxPool, 4); // two spares of 64 MiB, then two of 16 MiB
      }
      expect(runtime.sandboxPool.taken).toBe(1);
    } finally {
      await runtime.close();
    }
  }, 60_000);
});
