// Tests for the kv, clock and log kinds: their specs and operations through the kind API and the kernel's gate,
// their stores, and the same handles used from inside real sandboxes.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { AuditLog, MemoryAuditSink } from "../../runtime/audit.ts";
import { createClockKind } from "../../runtime/capabilities/clock/index.ts";
import { createKvKind } from "../../runtime/capabilities/kv/index.ts";
import { type KvStore, MemoryKvStore, SqliteKvStore } from "../../runtime/capabilities/kv/store.ts";
import { createLogKind, type LogSink } from "../../runtime/capabilities/log/index.ts";
import type { CapabilityKind, OpContext } from "../../runtime/capabilities/types.ts";
import { WardenError } from "../../runtime/errors.ts";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { Kernel, type SandboxRecord } from "../../runtime/kernel.ts";
import { failure } from "../support/failure.ts";
import { runningSandbox } from "../support/kernel.ts";
import { tempDir, writeTool } from "../support/tools.ts";

const NOW = 1234567;
const MiB = 1 << 20;

type Line = Parameters<LogSink>[0];

const dirs: string[] = [];
const stores: KvStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) {
    try {
      store.close();
    } catch {
      // already closed by the test
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = tempDir("warden-kinds-");
  dirs.push(dir);
  return dir;
}

function syncFailure(fn: () => unknown): WardenError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WardenError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls a kind's operation directly, as the gate would after its checks. */
async function direct<S, R>(
  kind: CapabilityKind<S, R>,
  spec: string,
  op: string,
  args: unknown,
  ctx: Partial<OpContext> = {},
  owner = "toolA",
): Promise<unknown> {
  const grant = kind.parseSpec(spec, { cwd: "/", owner });
  const resource = await kind.open(grant);
  const operation = kind.ops[op];
  if (!operation) throw new Error(`no op ${op}`);
  return operation.run({ grant, resource }, operation.args.parse(args), {
    signal: new AbortController().signal,
    handleName: "h",
    ...ctx,
  });
}

function kernelWith(store: KvStore = new MemoryKvStore(), lines: Line[] = []) {
  const audit = new MemoryAuditSink();
  const kernel = new Kernel({
    kinds: [
      createKvKind(store) as CapabilityKind,
      createClockKind(() => NOW) as CapabilityKind,
      createLogKind((line) => lines.push(line)) as CapabilityKind,
    ],
    audit: new AuditLog([audit]),
  });
  const grant = async (sb: SandboxRecord, name: string, spec: string) => {
    const { kind, grant: g } = kernel.parseSpec(spec, {
      cwd: "/",
      owner: sb.tool,
      identity: `/tools/${sb.tool}.js`,
    });
    return kernel.grant(sb, name, kind, g);
  };
  return { kernel, grant, lines, audit };
}

describe("kv", () => {
  const OPS: { op: string; args: unknown; right: string; result: unknown }[] = [
    { op: "get", args: { key: "k" }, right: "read", result: "v" },
    { op: "set", args: { key: "k", value: 2 }, right: "write", result: null },
    { op: "delete", args: { key: "k" }, right: "delete", result: true },
    { op: "list", args: {}, right: "list", result: ["k"] },
  ];

  test.each(OPS)("$op needs $right", async ({ op, args, right, result }) => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const all = await grant(sb, "all", "kv");
    await kernel.invoke(sb, all, "set", { key: "k", value: "v" });
    const others = ["read", "write", "delete", "list"].filter((r) => r !== right).join(",");
    const without = await grant(sb, "without", `kv:${others}`);
    const error = await failure(kernel.invoke(sb, without, op, args));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.denial?.right).toBe(right);
    expect(sb.issued.get("CAPABILITY_DENIED")?.hint).toContain("--grant without=kv:");
    const only = await grant(sb, "only", `kv:${right}`);
    expect(await kernel.invoke(sb, only, op, args)).toEqual(result);
  });

  test("specs: rights default to all, are canonical, and need an owner", () => {
    const kind = createKvKind(new MemoryKvStore());
    expect(kind.parseSpec("", { cwd: "/", owner: "t", identity: "/tools/t.js" }).rights).toEqual([
      "read",
      "write",
      "delete",
      "list",
    ]);
    expect(
      kind.parseSpec("list,read,read", { cwd: "/", owner: "t", identity: "/tools/t.js" }).rights,
    ).toEqual(["read", "list"]);
    expect(
      kind.formatSpec(kind.parseSpec("write,read", { cwd: "/", owner: "t", identity: "/tools/t.js" })),
    ).toBe("kv:read,write");
    const noOwner = syncFailure(() => kind.parseSpec("", { cwd: "/" }));
    expect(noOwner.code).toBe("USAGE");
    const bad = syncFailure(() =>
      kind.parseSpec("read,fly", { cwd: "/", owner: "t", identity: "/tools/t.js" }),
    );
    expect(bad.code).toBe("USAGE");
    expect(bad.message).toContain("valid rights: read, write, delete, list");
  });

  test("values round-trip as JSON", async () => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "kv", "kv");
    const values = [
      0,
      -1.5,
      "",
      "héllo 🎉\n\u0000",
      true,
      false,
      [],
      [1, "a", { b: null }],
      { nested: { deep: [1, 2, { x: "y" }] }, empty: {} },
    ];
    for (const [i, value] of values.entries()) {
      await kernel.invoke(sb, fd, "set", { key: `k${i}`, value });
      expect(await kernel.invoke(sb, fd, "get", { key: `k${i}` })).toEqual(value);
    }
    expect(await kernel.invoke(sb, fd, "get", { key: "missing" })).toBeNull();
    // Overwrite replaces.
    await kernel.invoke(sb, fd, "set", { key: "k0", value: { now: "object" } });
    expect(await kernel.invoke(sb, fd, "get", { key: "k0" })).toEqual({ now: "object" });
    expect(await kernel.invoke(sb, fd, "delete", { key: "k0" })).toBe(true);
    expect(await kernel.invoke(sb, fd, "delete", { key: "k0" })).toBe(false);
    expect(await kernel.invoke(sb, fd, "get", { key: "k0" })).toBeNull();
  });

  test("bad keys and non-JSON values are INVALID_ARGUMENT", async () => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "kv", "kv");
    for (const [op, args] of [
      ["get", { key: "" }],
      ["get", { key: "x".repeat(513) }],
      ["get", { key: 5 }],
      ["set", { key: "k" }],
      ["set", { key: "k", value: () => 1 }],
      ["set", { key: "k", value: new Map() }],
      ["list", { limit: 0 }],
      ["list", { limit: 1001 }],
      ["list", { prefix: "x".repeat(513) }],
    ] as const) {
      const error = await failure(kernel.invoke(sb, fd, op, args));
      expect(error.code).toBe("INVALID_ARGUMENT");
    }
  });

  test("a value over 1 MiB is LIMIT_EXCEEDED and not stored", async () => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "kv", "kv");
    // JSON adds two quote characters.
    await kernel.invoke(sb, fd, "set", { key: "fits", value: "x".repeat(MiB - 2) });
    const error = await failure(kernel.invoke(sb, fd, "set", { key: "big", value: "x".repeat(MiB - 1) }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain(`${MiB}-byte limit`);
    expect(await kernel.invoke(sb, fd, "get", { key: "big" })).toBeNull();
  });

  // BUG: kv/index.ts compares raw.length (UTF-16 code units) with maxValueBytes, so multi-byte text may hold
  // up to three times the byte limit (and the message calls the character count "bytes").
  test("the value limit counts UTF-8 bytes, not characters", async () => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "kv", "kv");
    const value = "€".repeat(600_000); // 1.8 MB of UTF-8 in 600,002 JSON characters
    const error = await failure(kernel.invoke(sb, fd, "set", { key: "k", value }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
  });

  test("the store quota refuses a write that would pass the namespace's total", async () => {
    const kind = createKvKind(new MemoryKvStore());
    const grant = kind.parseSpec("", { cwd: "/", owner: "t", identity: "/tools/t.js" });
    const small = { ...grant, scope: { ...grant.scope, maxTotalBytes: 16 } };
    const set = kind.ops.set!;
    const ctx = { signal: new AbortController().signal, handleName: "kv" };
    await set.run({ grant: small, resource: undefined }, { key: "a", value: "0123456789" }, ctx);
    const error = await failure(
      set.run({ grant: small, resource: undefined }, { key: "b", value: "x" }, ctx),
    );
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toMatch(/full/);
  });

  test("two tools never see each other's keys, even with the same key names", async () => {
    const { kernel, grant } = kernelWith();
    const one = runningSandbox(kernel, "toolOne");
    const two = runningSandbox(kernel, "toolTwo");
    const fd1 = await grant(one, "kv", "kv");
    const fd2 = await grant(two, "kv", "kv");
    await kernel.invoke(one, fd1, "set", { key: "shared", value: "one" });
    expect(await kernel.invoke(two, fd2, "get", { key: "shared" })).toBeNull();
    expect(await kernel.invoke(two, fd2, "list", {})).toEqual([]);
    expect(await kernel.invoke(two, fd2, "delete", { key: "shared" })).toBe(false);
    await kernel.invoke(two, fd2, "set", { key: "shared", value: "two" });
    await kernel.invoke(two, fd2, "set", { key: "mine", value: 2 });
    expect(await kernel.invoke(one, fd1, "get", { key: "shared" })).toBe("one");
    expect(await kernel.invoke(one, fd1, "list", {})).toEqual(["shared"]);
    expect(await kernel.invoke(two, fd2, "list", {})).toEqual(["mine", "shared"]);
  });

  test("a prefix narrowing hides every other key", async () => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "kv", "kv");
    for (const key of ["app/a", "app/b", "apple", "other/c", "ap"]) {
      await kernel.invoke(sb, fd, "set", { key, value: key });
    }
    const app = await kernel.attenuate(sb, fd, { prefix: "app/" });
    expect(await kernel.invoke(sb, app, "list", {})).toEqual(["a", "b"]);
    expect(await kernel.invoke(sb, app, "list", { prefix: "b" })).toEqual(["b"]);
    expect(await kernel.invoke(sb, app, "list", { limit: 1 })).toEqual(["a"]);
    expect(await kernel.invoke(sb, app, "get", { key: "a" })).toBe("app/a");
    for (const key of ["apple", "le", "other/c", "../other/c", "ap"]) {
      expect(await kernel.invoke(sb, app, "get", { key })).toBeNull();
    }
    // The parent's view is unchanged, and nested narrowing adds up.
    expect(await kernel.invoke(sb, fd, "list", { prefix: "app" })).toEqual(["app/a", "app/b", "apple"]);
    const nested = await kernel.attenuate(sb, app, { prefix: "a" });
    // "app/a" itself lies under "app/a", as the empty key.
    expect(await kernel.invoke(sb, nested, "list", {})).toEqual([""]);
    await kernel.invoke(sb, nested, "set", { key: "/deep", value: 1 });
    expect(await kernel.invoke(sb, fd, "get", { key: "app/a/deep" })).toBe(1);
    expect(await kernel.invoke(sb, nested, "list", {})).toEqual(["", "/deep"]);
  });

  describe.each([
    ["memory", () => new MemoryKvStore()],
    ["sqlite", () => new SqliteKvStore(join(scratch(), "kv.sqlite"))],
  ] as const)("%s store", (_name, make) => {
    test("list treats % and _ in a prefix literally, in key order, up to the limit", () => {
      const store = make();
      stores.push(store);
      for (const key of ["a%b", "a%", "a_c", "axb", "abc", "a\\d", "b%"]) store.set("ns", key, "1");
      store.set("other", "a%z", "1");
      expect(store.list("ns", "a%", 10)).toEqual(["a%", "a%b"]);
      expect(store.list("ns", "a_", 10)).toEqual(["a_c"]);
      expect(store.list("ns", "a\\", 10)).toEqual(["a\\d"]);
      expect(store.list("ns", "", 10)).toEqual(["a%", "a%b", "a\\d", "a_c", "abc", "axb", "b%"]);
      expect(store.list("ns", "a", 2)).toEqual(["a%", "a%b"]);
      expect(store.list("none", "", 10)).toEqual([]);
    });

    test("a lone surrogate in a key is refused by the store, never merged with another key", () => {
      const store = make();
      stores.push(store);
      store.set("ns", "a\ufffd", "1");
      for (const use of [
        () => store.set("ns", "a\ud800", "2"),
        () => store.get("ns", "a\ud801"),
        () => store.delete("ns", "a\udc00"),
        () => store.list("ns", "a\ud800", 10),
      ]) {
        expect(syncFailure(use).code).toBe("INVALID_ARGUMENT");
      }
      expect(store.get("ns", "a\ufffd")).toBe("1");
    });

    test("list orders and bounds keys by code point, astral and U+10FFFF keys too", () => {
      const store = make();
      stores.push(store);
      for (const key of ["b", "a\u{10FFFF}x", "a\u{10000}", "a\uffff", "a\ud7ff", "a", "a\u{10FFFF}"])
        store.set("ns", key, "1");
      const ordered = ["a", "a\ud7ff", "a\uffff", "a\u{10000}", "a\u{10FFFF}", "a\u{10FFFF}x"];
      expect(store.list("ns", "a", 10)).toEqual(ordered);
      expect(store.list("ns", "", 10)).toEqual([...ordered, "b"]);
      expect(store.list("ns", "a\u{10FFFF}", 10)).toEqual(["a\u{10FFFF}", "a\u{10FFFF}x"]);
    });

    test("through the gate, every kv path refuses a lone surrogate with INVALID_ARGUMENT", async () => {
      const store = make();
      stores.push(store);
      const { kernel, grant } = kernelWith(store);
      const sb = runningSandbox(kernel, "toolA");
      const fd = await grant(sb, "kv", "kv");
      await kernel.invoke(sb, fd, "set", { key: "a\ud800", value: 1 }).catch(() => undefined);
      const calls: [string, unknown][] = [
        ["set", { key: "a\ud801", value: 2 }],
        ["set", { key: "\udc00", value: 2 }],
        ["get", { key: "a\ud800" }],
        ["delete", { key: "a\ud800" }],
        ["list", { prefix: "a\ud800" }],
        ["$attenuate", { prefix: "a\ud800" }],
      ];
      for (const [op, args] of calls) {
        const call =
          op === "$attenuate" ? kernel.attenuateCall(sb, fd, args) : kernel.invoke(sb, fd, op, args);
        const error = await failure(call);
        expect(error.code).toBe("INVALID_ARGUMENT");
        expect(error.message).toContain("lone surrogate");
      }
      expect(await kernel.invoke(sb, fd, "list", {})).toEqual([]);
      // Two prefixes that differ only in a lone surrogate would have shared keys; neither is issued.
      const narrowed = await kernel.attenuate(sb, fd, { prefix: "p\u{1F600}" });
      await kernel.invoke(sb, narrowed, "set", { key: "k", value: 3 });
      expect(await kernel.invoke(sb, fd, "get", { key: "p\u{1F600}k" })).toBe(3);
    });

    test("get, set, delete and size are per namespace", () => {
      const store = make();
      stores.push(store);
      store.set("ns", "k", '"v"');
      store.set("ns2", "k", '"other"');
      expect(store.get("ns", "k")).toBe('"v"');
      expect(store.size("ns")).toBe(4);
      expect(store.delete("ns", "k")).toBe(true);
      expect(store.delete("ns", "k")).toBe(false);
      expect(store.get("ns", "k")).toBeUndefined();
      expect(store.get("ns2", "k")).toBe('"other"');
      expect(store.size("ns")).toBe(0);
    });
  });

  test("SqliteKvStore persists across close and reopen", async () => {
    const file = join(scratch(), "kv.sqlite");
    const first = new SqliteKvStore(file);
    const { kernel, grant } = kernelWith(first);
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "kv", "kv");
    await kernel.invoke(sb, fd, "set", { key: "k%_", value: { n: [1, 2], s: "é" } });
    await kernel.invoke(sb, fd, "set", { key: "gone", value: 1 });
    await kernel.invoke(sb, fd, "delete", { key: "gone" });
    first.close();

    const second = new SqliteKvStore(file);
    stores.push(second);
    const again = kernelWith(second);
    const sb2 = runningSandbox(again.kernel, "toolA");
    const fd2 = await again.grant(sb2, "kv", "kv");
    expect(await again.kernel.invoke(sb2, fd2, "get", { key: "k%_" })).toEqual({ n: [1, 2], s: "é" });
    expect(await again.kernel.invoke(sb2, fd2, "list", {})).toEqual(["k%_"]);
    expect(await again.kernel.invoke(sb2, fd2, "list", { prefix: "k%" })).toEqual(["k%_"]);
    expect(await again.kernel.invoke(sb2, fd2, "list", { prefix: "kx" })).toEqual([]);
    const stranger = runningSandbox(again.kernel, "toolB");
    const fd3 = await again.grant(stranger, "kv", "kv");
    expect(await again.kernel.invoke(stranger, fd3, "get", { key: "k%_" })).toBeNull();
  });
});

describe("clock", () => {
  test.each([
    ["", 1234500],
    ["read", 1234500],
    ["read:100ms", 1234500],
    ["read:1s", 1234000],
    ["read:1ms", 1234567],
    ["read,sleep:1s", 1234000],
  ])("now with clock:%s is %d", async (spec, expected) => {
    expect(
      await direct(
        createClockKind(() => NOW),
        spec,
        "now",
        {},
      ),
    ).toBe(expected);
  });

  test("specs format back and bad ones are USAGE listing the valid forms", () => {
    const kind = createClockKind(() => NOW);
    const env = { cwd: "/" };
    expect(kind.formatSpec(kind.parseSpec("", env))).toBe("clock:read,sleep:100ms");
    expect(kind.formatSpec(kind.parseSpec("read:1s", env))).toBe("clock:read:1s");
    expect(kind.formatSpec(kind.parseSpec("sleep,read:1ms", env))).toBe("clock:read,sleep:1ms");
    for (const body of ["read:2s", "read:1s:x", "read:", "read:10ms", "read:1000"]) {
      const error = syncFailure(() => kind.parseSpec(body, env));
      expect(error.code).toBe("USAGE");
      expect(error.message).toContain("1ms, 100ms, 1s");
      expect(error.message).toContain("clock:read:RES");
    }
    for (const body of ["fly", ":1s", "write:1s"]) {
      const error = syncFailure(() => kind.parseSpec(body, env));
      expect(error.code).toBe("USAGE");
      expect(error.message).toContain("valid rights: read, sleep");
    }
  });

  test("now and sleep need their rights", async () => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const readOnly = await grant(sb, "clock", "clock:read");
    const sleepOnly = await grant(sb, "timer", "clock:sleep");
    expect((await failure(kernel.invoke(sb, readOnly, "sleep", { ms: 1 }))).denial?.right).toBe("sleep");
    expect((await failure(kernel.invoke(sb, sleepOnly, "now", {}))).denial?.right).toBe("read");
    expect(await kernel.invoke(sb, sleepOnly, "sleep", { ms: 1 })).toBeNull();
    for (const args of [{ ms: -1 }, { ms: 24 * 3600 * 1000 + 1 }, { ms: "5" }, {}]) {
      expect((await failure(kernel.invoke(sb, sleepOnly, "sleep", args))).code).toBe("INVALID_ARGUMENT");
    }
  });

  test("sleep resolves after about the time asked", async () => {
    const started = Date.now();
    expect(await direct(createClockKind(), "", "sleep", { ms: 30 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  test("sleep is aborted by its signal", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = failure(
      direct(createClockKind(), "", "sleep", { ms: 10_000 }, { signal: controller.signal }),
    );
    await delay(10);
    controller.abort();
    const error = await sleeping;
    expect(error.code).toBe("LIMIT_EXCEEDED");
    // A hang bound, far under the 10 s sleep: the abort ended it.
    expect(Date.now() - started).toBeLessThan(8000);
  });

  // BUG: clock/index.ts sleep only listens for a future "abort" event, so a signal that is already aborted
  // (e.g. a call that arrives after its run ended) sleeps the full time.
  test("sleep with an already-aborted signal rejects at once", async () => {
    const sleeping = direct(createClockKind(), "", "sleep", { ms: 1500 }, { signal: AbortSignal.abort() });
    const outcome = await Promise.race([
      sleeping.then(
        () => "resolved",
        (e: WardenError) => e.code,
      ),
      delay(200).then(() => "still sleeping"),
    ]);
    expect(outcome).toBe("LIMIT_EXCEEDED");
  });
});

describe("log", () => {
  test("lines reach the sink with the owner's name", async () => {
    const { kernel, grant, lines } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "log", "log");
    for (const level of ["debug", "info", "warn", "error"]) {
      await kernel.invoke(sb, fd, "write", { level, message: `${level} line` });
    }
    expect(lines).toEqual([
      { level: "debug", message: "debug line", owner: "toolA" },
      { level: "info", message: "info line", owner: "toolA" },
      { level: "warn", message: "warn line", owner: "toolA" },
      { level: "error", message: "error line", owner: "toolA" },
    ]);
    for (const args of [{ level: "fatal", message: "x" }, { level: "info" }, { level: "info", message: 1 }]) {
      expect((await failure(kernel.invoke(sb, fd, "write", args))).code).toBe("INVALID_ARGUMENT");
    }
    expect(lines).toHaveLength(4);
  });

  test("without an owner the handle's name is used", async () => {
    const seen: Line[] = [];
    await direct(
      createLogKind((l) => seen.push(l)),
      "",
      "write",
      { level: "info", message: "m" },
      {
        handleName: "logger",
      },
    );
    expect(seen).toEqual([{ level: "info", message: "m", owner: "logger" }]);
  });

  test("specs: write is the only right", () => {
    const kind = createLogKind(() => undefined);
    expect(kind.parseSpec("", { cwd: "/" })).toMatchObject({ rights: ["write"], scope: { maxBytes: MiB } });
    expect(kind.formatSpec(kind.parseSpec("write", { cwd: "/" }))).toBe("log:write");
    const error = syncFailure(() => kind.parseSpec("read", { cwd: "/" }));
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain("valid rights: write");
  });

  test("output over maxBytes is LIMIT_EXCEEDED and never reaches the sink", async () => {
    const { kernel, grant, lines } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "log", "log");
    await kernel.invoke(sb, fd, "write", { level: "info", message: "x".repeat(MiB - 1) });
    await kernel.invoke(sb, fd, "write", { level: "info", message: "y" });
    const error = await failure(kernel.invoke(sb, fd, "write", { level: "info", message: "z" }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain(`${MiB} bytes`);
    expect(lines.map((l) => l.message.length)).toEqual([MiB - 1, 1]);

    const small = await kernel.attenuate(sb, (await grant(sb, "log2", "log")) as number, { maxBytes: 10 });
    await kernel.invoke(sb, small, "write", { level: "warn", message: "0123456" });
    expect((await failure(kernel.invoke(sb, small, "write", { level: "warn", message: "7890" }))).code).toBe(
      "LIMIT_EXCEEDED",
    );
    expect(lines).toHaveLength(3);
  });

  // BUG: every derived handle gets a fresh LogResource ({ written: 0 }) from open(), so attenuating a spent
  // log handle yields a new budget: the child allows what its parent no longer does, and the cap is unbounded.
  test("attenuating a spent log handle does not grant a fresh budget", async () => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const fd = await grant(sb, "log", "log");
    const small = await kernel.attenuate(sb, fd, { maxBytes: 10 });
    await kernel.invoke(sb, small, "write", { level: "info", message: "0123456789" });
    const again = await kernel.attenuate(sb, small, {});
    const error = await failure(kernel.invoke(sb, again, "write", { level: "info", message: "more" }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
  });

  // BUG: log/index.ts counts message.length (UTF-16 code units) against maxBytes.
  test("the log cap counts UTF-8 bytes, not characters", async () => {
    const { kernel, grant } = kernelWith();
    const sb = runningSandbox(kernel, "toolA");
    const small = await kernel.attenuate(sb, await grant(sb, "log", "log"), { maxBytes: 10 });
    const error = await failure(kernel.invoke(sb, small, "write", { level: "info", message: "€€€€" }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
  });
});

describe("bad scope narrowing requests", () => {
  // BUG: the kv, clock and log kinds' narrow() call zod's .parse, whose ZodError the gate reports as INTERNAL
  // (a Warden bug) instead of INVALID_ARGUMENT (the caller's bad arguments), as fs's narrowScope does.
  const CASES = [
    ["kv", "kv", { prefix: "" }],
    ["clock", "clock", { resolutionMs: 0 }],
    ["log", "log", { maxBytes: -1 }],
  ] as const;
  for (const [name, spec, request] of CASES) {
    test(`a bad ${name} narrowing from a guest is INVALID_ARGUMENT`, async () => {
      const { kernel, grant } = kernelWith();
      const sb = runningSandbox(kernel, "toolA");
      const fd = await grant(sb, name, spec);
      const error = await failure(kernel.attenuateCall(sb, fd, request));
      expect(error.code).toBe("INVALID_ARGUMENT");
    });
  }
});

describe("through real sandboxes", () => {
  let runtime: Runtime;
  let home: string;
  const lines: Line[] = [];

  beforeAll(() => {
    home = tempDir("warden-kinds-rt-");
    runtime = createRuntime({ cwd: home, log: (line) => lines.push(line) });
  });
  afterAll(async () => {
    await runtime.close();
    rmSync(home, { recursive: true, force: true });
  });

  test("kv stores are keyed by the tool file the host loaded, not the name a tool gives itself", async () => {
    const body = (value: string) => ({
      name: "notes",
      capabilities: { store: { type: "kv" } },
      run: `const had = await caps.store.get("token"); ${value ? `await caps.store.set("token", ${JSON.stringify(value)});` : ""} return had;`,
    });
    const victim = await runtime.loadTool(writeTool(home, body("secret")), { grants: { store: "kv" } });
    expect(await victim.call({})).toBe(null);
    expect(await victim.call({})).toBe("secret");
    const impostor = await runtime.loadTool(writeTool(home, body("")), { grants: { store: "kv" } });
    expect(await impostor.call({})).toBe(null);
    // An operator can share a store on purpose, by naming it.
    const a = await runtime.loadTool(writeTool(home, body("shared")), {
      grants: { store: "kv:read,write:team" },
    });
    const b = await runtime.loadTool(writeTool(home, body("")), { grants: { store: "kv:read,write:team" } });
    expect(await a.call({})).toBe(null);
    expect(await b.call({})).toBe("shared");
  });

  test("two tools' kv stores are separate even with identical key names", async () => {
    const source = (name: string) =>
      writeTool(home, {
        name,
        capabilities: { store: { type: "kv" } },
        run: `
          if (input.write !== undefined) await caps.store.set("key", input.write);
          const narrow = await caps.store.attenuate({ prefix: "n/", rights: ["read", "list"] });
          return { value: await caps.store.get("key"), keys: await caps.store.list(), narrow: await narrow.list() };`,
      });
    const one = await runtime.loadTool(source("kvOne"), { grants: { store: "kv" } });
    const two = await runtime.loadTool(source("kvTwo"), { grants: { store: "kv:read,list" } });
    expect(await one.call({ write: { from: "one" } })).toEqual({
      value: { from: "one" },
      keys: ["key"],
      narrow: [],
    });
    expect(await two.call({})).toEqual({ value: null, keys: [], narrow: [] });
    const error = await failure(two.call({ write: "two" }));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect((error as WardenError).hint).toContain("--grant store=kv:read,write,list");
    expect(await one.call({})).toEqual({ value: { from: "one" }, keys: ["key"], narrow: [] });
  });

  test("clock: now is rounded to the granted resolution and sleep resolves", async () => {
    const file = writeTool(home, {
      capabilities: { clock: { type: "clock" } },
      run: `
        const t = await caps.clock.now();
        await caps.clock.sleep(5);
        const coarse = await caps.clock.attenuate({ rights: ["read"] });
        let sleep;
        try { await coarse.sleep(1); sleep = "slept"; } catch (e) { sleep = e.code; }
        return { t, mod: t % 1000, sleep };`,
    });
    const tool = await runtime.loadTool(file, { grants: { clock: "clock:read,sleep:1s" } });
    const before = Date.now();
    const out = (await tool.call({})) as { t: number; mod: number; sleep: string };
    expect(out.mod).toBe(0);
    expect(out.sleep).toBe("CAPABILITY_DENIED");
    expect(Math.abs(out.t - before)).toBeLessThan(5000);
  });

  test("log: lines reach the host sink with the tool's name, and a narrowed cap is enforced", async () => {
    const file = writeTool(home, {
      name: "logger",
      capabilities: { log: { type: "log" } },
      run: `
        await caps.log.info("hello", 42);
        await caps.log.error("bad");
        const small = await caps.log.attenuate({ maxBytes: 8 });
        await small.warn("12345");
        try { await small.warn("6789"); return "wrote"; } catch (e) { return e.code; }`,
    });
    const tool = await runtime.loadTool(file, { grants: { log: "log" } });
    expect(await tool.call({})).toBe("LIMIT_EXCEEDED");
    expect(lines).toEqual([
      { level: "info", message: "hello 42", owner: "logger" },
      { level: "error", message: "bad", owner: "logger" },
      { level: "warn", message: "12345", owner: "logger" },
    ]);
  });
});
