// What the README promises of the quickjs backend beyond the shared tables: memory kills a tool cannot
// catch, a host stack overflow that discards only the sandbox, imports only while linking, and the same
// starting state in every sandbox.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { type ToolSource, tempDir, writeTool } from "../support/tools.ts";

const BACKEND = "quickjs:in-process";

describe("quickjs", () => {
  let runtime: Runtime;
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    runtime = createRuntime({ cwd: dir, log: () => {} });
  });
  afterAll(() => runtime.close());

  const load = (source: ToolSource, memoryMb = 32) =>
    runtime.loadTool(writeTool(dir, source), { backend: BACKEND, limits: { memoryMb } });

  test("a tool that catches its out-of-memory error still ends on its memory limit", async () => {
    const tool = await load({
      run: `if (!input.grow) return "fresh";
        try { const a = []; for (;;) a.push(new Array(1e5).fill(1.5)); } catch (e) { return "caught " + e; }`,
    });
    await expect(tool.call({ grow: true })).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
      message: expect.stringMatching(/memory limit of 32 MiB/),
    });
    expect(await tool.call({ grow: false })).toBe("fresh");
    await tool.dispose();
  });

  test("a builtin recursing past the host's stack fails the call and only its sandbox is replaced", async () => {
    const tool = await load({ run: "return input.deep ? JSON.parse('['.repeat(200000)) : 'ok';" });
    // In the kernel's process a sandbox runs on a thread of its own, whose stack (4 MiB) is deep enough that
    // QuickJS's own limit usually trips first; on a 1 MiB stack (a cell's main thread) the host's does.
    await expect(tool.call({ deep: true })).rejects.toMatchObject({
      code: "TOOL_ERROR",
      message: expect.stringMatching(/Maximum call stack size exceeded|stack overflow/),
    });
    expect(await tool.call({ deep: false })).toBe("ok");
    await tool.dispose();
  });

  test("import() is refused even while the module loads, and for the modules it may import", async () => {
    const tool = await load({
      top: "const early = import('warden/sdk').then(() => 'imported', () => 'refused');",
      run: "return [await early, await import('zod').then(() => 'imported', () => 'refused')];",
    });
    expect(await tool.call({})).toEqual(["refused", "refused"]);
    await tool.dispose();
  });

  test("every fresh sandbox starts from the same image but draws its own random numbers", async () => {
    // The image holds QuickJS's own Math.random state; each sandbox is seeded apart (sdk/guest/globals/random.ts).
    const source = {
      top: "globalThis.marked = (globalThis.marked ?? 0) + 1;",
      run: "return [Math.random(), marked];",
    };
    const [a, b] = [await load(source), await load(source)];
    const first = (await a.call({})) as [number, number];
    const second = (await b.call({})) as [number, number];
    expect(second[1]).toBe(first[1]);
    expect(second[0]).not.toBe(first[0]);
    expect(await a.call({})).not.toEqual(first);
    await a.dispose();
    await b.dispose();
  });
});
