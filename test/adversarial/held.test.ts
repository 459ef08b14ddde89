// No guest holds the kernel's thread: on every backend and isolation, a hostile tool does its worst (long keys,
// names and paths, many problems in one argument, deep arguments, floods of refused calls, a long thrown
// error, a builtin the engine cannot interrupt) while a host timer keeps firing. The bounds state a hang,
// not a speed: before this held, one refused call with a long key held the thread for many seconds.
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime, WardenError } from "../../runtime/index.ts";
import { tempDir, writeTool } from "../support/tools.ts";
import { toolWat, writeComponent } from "../wasm/fixtures.ts";

/** Longest the kernel's event loop may go without running a timer: a hang, generous for a busy 2-core machine. */
const HELD_MS = 2000;
/** Audit bytes (both files) one refused call may add: a record's size bound, with room to spare. */
const AUDIT_BYTES_PER_REFUSAL = 64 * 1024;
// Wide enough that the hostile tool's own work (building its arguments) ends on none of them.
const LIMITS = { timeoutMs: 60_000, cpuMs: 20_000, memoryMb: 256, outputKb: 1024 };

/** The longest gap between ticks of a 20 ms host timer while `work` runs. */
async function heldWhile<T>(work: () => Promise<T>): Promise<{ result: T | unknown; heldMs: number }> {
  let last = performance.now();
  let heldMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    heldMs = Math.max(heldMs, now - last);
    last = now;
  }, 20);
  try {
    const result = await work().catch((error: unknown) => error);
    // A timer callback that was due while the thread was held runs only now: count that gap too.
    heldMs = Math.max(heldMs, performance.now() - last);
    return { result, heldMs };
  } finally {
    clearInterval(timer);
  }
}

function auditBytes(state: string): number {
  let total = 0;
  for (const name of readdirSync(state))
    if (name.startsWith("audit")) total += statSync(join(state, name)).size;
  return total;
}

const HOSTILE_CALLS = `
  const long = (n) => "a.".repeat(n / 2);
  let refused = 0;
  const refuse = async (promise) => {
    try { await promise; } catch { refused++; }
  };
  // Arguments are parsed before rights are checked: none of these needs a right.
  for (let i = 0; i < 4; i++) await refuse(caps.store.attenuate({ [long(200_000) + i]: 1 }));
  // Just under the bound on values in one call's arguments, each a problem zod reports; then over it.
  const bad = (n, value) => Object.fromEntries(Array.from({ length: n }, (_, i) => ["bad name " + i + long(40), value]));
  await refuse(caps.store.attenuate(bad(19_990, 1)));
  await refuse(caps.store.attenuate({ rights: new Array(19_990).fill(1) }));
  await refuse(caps.api.fetch("https://api.example.com/", { headers: bad(19_990, "v") }));
  await refuse(caps.store.set("k", new Array(20_001).fill(0)));
  await refuse(caps.store.attenuate({ rights: [long(200_000)] }));
  await refuse(caps.files.readText("../" + long(200_000)));
  await refuse(caps.files.readText(long(200_000) + "/x"));
  let deep = 1;
  for (let i = 0; i < 5_000; i++) deep = [deep];
  await refuse(caps.store.set("k", deep));
  let nested = 1;
  for (let i = 0; i < 2_000; i++) nested = { [long(64)]: nested };
  await refuse(caps.store.attenuate({ prefix: nested }));
  for (let i = 0; i < 300; i++) await refuse(caps.store.attenuate({ [long(2_000) + i]: 1 }));
  return { refused };
`;

const LONG_ERROR = `
  String.prototype.slice = function () { return String(this); };
  String.prototype.substring = String.prototype.slice;
  throw new Error("a.".repeat(250_000));
`;

// QuickJS's indexOf is quadratic and cannot be interrupted; V8's is fast. Either way the kernel's thread is free.
const UNINTERRUPTIBLE = `
  const text = "a".repeat(1 << 20);
  return text.indexOf("a".repeat(1 << 15) + "b");
`;

// A tool's definition is the guest's text (it can replace JSON.stringify): a huge one held the kernel's thread
// for seconds as the host parsed and checked it; a deep one overflowed the host's stack (INTERNAL, or no code).
const definitionTool = (definition: string) => `import { defineTool, z } from "warden/sdk";
const stringify = JSON.stringify;
JSON.stringify = function (value, ...rest) {
  if (value && typeof value === "object" && "inputSchema" in value && "capabilities" in value)
    return stringify({ ...value, inputSchema: "SCHEMA" }).replace('"SCHEMA"', ${definition});
  return stringify.call(this, value, ...rest);
};
export default defineTool({ name: "big", description: "d", input: z.any(), output: z.any(), capabilities: {}, async run() { return 1; } });
`;
const HUGE_DEFINITION = definitionTool(
  `stringify({ type: "object", properties: Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => ["k" + i, { type: "string", description: "xxxxxxxxxx" }])) })`,
);
const DEEP_DEFINITION = definitionTool(`'{"a":'.repeat(20_000) + "1" + "}".repeat(20_000)`);

const runtimes: Runtime[] = [];
afterAll(async () => {
  for (const runtime of runtimes) await runtime.close();
});

function setUp(isolation: "in-process" | "cell") {
  const state = tempDir("warden-held-");
  const files = tempDir("warden-held-files-");
  const runtime = createRuntime({ stateDir: state, isolation, log: () => undefined });
  runtimes.push(runtime);
  return { state, files, runtime };
}

for (const backend of ["v8:in-process", "quickjs:in-process", "v8:cell", "quickjs:cell"] as const) {
  const isolation = backend.endsWith(":cell") ? "cell" : "in-process";
  describe(`${backend}: the kernel's thread is never held`, () => {
    const { state, files, runtime } = setUp(isolation);
    const dir = tempDir();

    test("by hostile handle calls, and the audit files grow by a bounded record per refusal", {
      timeout: 120_000,
    }, async () => {
      const path = writeTool(dir, {
        run: HOSTILE_CALLS,
        capabilities: {
          store: { type: "kv", rights: ["read"] },
          files: { type: "fs", rights: ["read"] },
          api: { type: "net", rights: ["GET"] },
        },
      });
      const tool = await runtime.loadTool(path, {
        backend,
        limits: LIMITS,
        grants: { store: "kv", files: `fs:read:${files}`, api: "net:GET:https://api.example.com" },
      });
      const before = auditBytes(state);
      const recordsBefore = runtime.auditRecords.length;
      const { result, heldMs } = await heldWhile(() => tool.call({}));
      expect(result).toEqual({ refused: 313 });
      expect(heldMs).toBeLessThan(HELD_MS);
      const refusals = runtime.auditRecords.slice(recordsBefore).filter((r) => r.decision !== "allow").length;
      // The deep array may fail in the guest's own encoder; arguments over the bound on values are refused
      // before the gate, unread (as malformed ones are).
      expect(refusals).toBeGreaterThanOrEqual(311);
      expect((auditBytes(state) - before) / refusals).toBeLessThan(AUDIT_BYTES_PER_REFUSAL);
    });

    test("by a long thrown error, even with String.prototype.slice replaced; the caller gets it cut", async () => {
      const tool = await runtime.loadTool(writeTool(dir, { run: LONG_ERROR }), { backend, limits: LIMITS });
      const before = auditBytes(state);
      const { result, heldMs } = await heldWhile(() => tool.call({}));
      expect(heldMs).toBeLessThan(HELD_MS);
      expect(result).toBeInstanceOf(WardenError);
      expect((result as WardenError).code).toBe("TOOL_ERROR");
      expect((result as WardenError).message.length).toBeLessThan(8192);
      expect(auditBytes(state) - before).toBeLessThan(AUDIT_BYTES_PER_REFUSAL);
    });

    test("by a tool definition of megabytes, or nested thousands deep: LOAD_ERROR", {
      timeout: 60_000,
    }, async () => {
      for (const source of [HUGE_DEFINITION, DEEP_DEFINITION]) {
        const path = join(dir, `definition-${Math.random().toString(36).slice(2)}.js`);
        writeFileSync(path, source);
        const { result, heldMs } = await heldWhile(() => runtime.loadTool(path, { backend, limits: LIMITS }));
        expect(heldMs).toBeLessThan(HELD_MS);
        expect(result).toBeInstanceOf(WardenError);
        expect((result as WardenError).code).toBe("LOAD_ERROR");
      }
    });

    test("by a builtin the engine cannot interrupt", async () => {
      const tool = await runtime.loadTool(writeTool(dir, { run: UNINTERRUPTIBLE }), {
        backend,
        limits: { ...LIMITS, cpuMs: 300, timeoutMs: 3000 },
      });
      const started = performance.now();
      const { result, heldMs } = await heldWhile(() => tool.call({}));
      expect(heldMs).toBeLessThan(HELD_MS);
      // A hang bound: the wall-time limit, the kernel's grace past it, and slack for a busy machine.
      expect(performance.now() - started).toBeLessThan(3000 + 1000 + 5000);
      if (result instanceof WardenError) expect(result.code).toBe("LIMIT_EXCEEDED");
      else expect(result).toBe(-1);
    });
  });
}

// A component's error record comes from its own memory: a long code and message, cut by the host.
const LONG_REPORT = `
  (local $i i32)
  (drop (memory.grow (i32.const 16)))
  (block $done (loop $fill
    (br_if $done (i32.ge_u (local.get $i) (i32.const 600000)))
    (i32.store8 (i32.add (i32.const 65536) (local.get $i))
      (select (i32.const 97) (i32.const 46) (i32.eqz (i32.and (local.get $i) (i32.const 1)))))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $fill)))
  (i32.store8 (i32.const 32) (i32.const 1))
  (i32.store (i32.const 36) (i32.const 65536))
  (i32.store (i32.const 40) (i32.const 100000))
  (i32.store (i32.const 44) (i32.const 65536))
  (i32.store (i32.const 48) (i32.const 600000))
  (i32.const 32)`;

for (const backend of ["wasm:in-process", "wasm:cell"] as const) {
  const isolation = backend.endsWith(":cell") ? "cell" : "in-process";
  describe(`${backend}: the kernel's thread is never held`, () => {
    const { state, runtime } = setUp(isolation);
    const dir = tempDir();

    test("by a component's long error report", async () => {
      const definition = JSON.stringify({
        name: "reporter",
        description: "test component",
        inputSchema: { type: "object" },
        outputSchema: { type: "object" },
        capabilities: {},
      });
      const path = await writeComponent(dir, toolWat(definition, { wat: LONG_REPORT }));
      const tool = await runtime.loadTool(path, { backend, limits: LIMITS });
      const before = auditBytes(state);
      const { result, heldMs } = await heldWhile(() => tool.call({}));
      expect(heldMs).toBeLessThan(HELD_MS);
      expect(result).toBeInstanceOf(WardenError);
      expect((result as WardenError).message.length).toBeLessThan(8192);
      expect(auditBytes(state) - before).toBeLessThan(AUDIT_BYTES_PER_REFUSAL);
    });

    // As deep as the fixture's 5,000 characters allow: past the bound on depth, which a definition keeps too.
    test("by a definition nested past the bound on depth: LOAD_ERROR", async () => {
      const deep = `${'{"a":'.repeat(700)}1${"}".repeat(700)}`;
      const definition = `{"name":"deep","description":"d","inputSchema":${deep},"outputSchema":{},"capabilities":{}}`;
      const path = await writeComponent(dir, toolWat(definition, { ok: "{}" }));
      const { result, heldMs } = await heldWhile(() => runtime.loadTool(path, { backend, limits: LIMITS }));
      expect(heldMs).toBeLessThan(HELD_MS);
      expect(result).toBeInstanceOf(WardenError);
      expect((result as WardenError).code).toBe("LOAD_ERROR");
    });
  });
}
