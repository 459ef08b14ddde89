// The globals a sandbox offers (URL, atob, structuredClone, timers, crypto, console, a still clock), as one
// table run on every JS engine, in-process and in a cell: each row's answer is pinned, or is what Node's own
// globals answer for the same code on the host.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { AuditRecord } from "../../runtime/audit.ts";
import type { LogLevel } from "../../runtime/capabilities/log/index.ts";
import { createRuntime, type Runtime, type Tool, WardenError } from "../../runtime/index.ts";
import { ENGINES, tempDir, writeTool } from "../support/tools.ts";

const BACKENDS = ENGINES.flatMap((e) => [`${e}:in-process`, `${e}:cell`]);

interface Row {
  name: string;
  /** The body of an async function of `caps`, run in the sandbox. */
  code: string;
  /** The answer; when absent, the answer Node gives for the same code on the host. */
  expected?: unknown;
}

/** Tricky URLs, each parsed against an optional base; compared with Node's URL (WHATWG, by ada). */
const URLS: Array<[string, string?]> = [
  ["HTTP://EXAMPLE.com:80/a/./b/../c?q=1#h"],
  ["https://user:pa ss@example.com:443/p"],
  ["http://[::1]:8080/"],
  ["http://[::ffff:192.168.0.1]/"],
  ["http://[1:2:3:4:5:6:7:8:9]/"],
  ["http://0x7f.1/"],
  ["http://127.1/"],
  ["http://2130706433/"],
  ["http://999999999999/"],
  ["http://1.2.3.4.5/"],
  ["http://example.com./"],
  ["http://münchen.de/"],
  ["http://ÉXAMPLE.com/"],
  ["http://日本語.jp/"],
  ["http://ＥＸＡＭＰＬＥ．com/"],
  ["http://xn--nxasmq6b.com/"],
  ["http://xn--a.com/"],
  ["https://xn--/"],
  ["https://ß.example/"],
  ["http://\u200bexample.com/"],
  ["http://ex ample.com/"],
  ["http://exa%41mple.com/"],
  ["http://%zz/"],
  ["http://user@:80/"],
  ["https://a.example:65536/"],
  ["https://a.example:0080/"],
  ["file:///C:/x/../y"],
  ["file://host/share"],
  ["javascript:alert(1)"],
  ["mailto:a@b.c"],
  ["data:text/plain,hi there"],
  ["blob:https://a.example/uuid"],
  ["https://a.example/?q=a b&c=%zz"],
  ["https://a.example/é?é#é"],
  ["http://a.example/?x=\ud800"],
  ["http://a.example/%2e%2E/b"],
  ["http://a.example\\b\\c"],
  ["non-special://host/a/../b"],
  ["  \t https://a.example/\n x "],
  ["//evil.example/path", "https://a.example/x"],
  ["../../../etc", "https://a.example/a/b/c"],
  ["https:a.example", "https://b.example/"],
  ["?only", "https://a.example/p?q#f"],
  ["not a url"],
  ["/relative"],
];

const ROWS: Row[] = [
  {
    name: "URL: a table of tricky URLs parses as Node's URL does",
    code: `return ${JSON.stringify(URLS)}.map(([input, base]) => {
      try {
        const u = new URL(input, base);
        return [u.href, u.origin, u.protocol, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.username, u.password];
      } catch (e) { return [e.name, e instanceof TypeError]; }
    });`,
  },
  {
    name: "URL: setters, searchParams, canParse and toJSON",
    code: `const u = new URL("https://a.example/p?b=2&a=1");
      u.searchParams.append("c", "x y&z");
      u.searchParams.sort();
      u.hash = "frag";
      u.port = "8443";
      u.pathname = "/über";
      const v = new URL("https://a.example");
      v.host = "b.example:99";
      return [u.href, JSON.stringify({ u }), v.href, URL.canParse("https://x"), URL.canParse("nope"), String(u)];`,
  },
  {
    name: "URLSearchParams: parsing, encoding and iteration",
    code: `const p = new URLSearchParams("?a=1&b=2&a=3 4+5&c=%zz&d=%E2%82%AC&=e&f");
      const q = new URLSearchParams({ x: "1 2", "y&": "ü" });
      const r = new URLSearchParams([["k", "v"], ["k", "w"]]);
      r.delete("k", "v");
      return [p.getAll("a"), p.get("c"), p.get("d"), p.get(""), p.has("f"), [...p.keys()], p.toString(),
        q.toString(), r.toString(), p.size];`,
  },
  {
    name: "zod: z.url() and z.string().url() accept URLs and refuse others",
    code: `const { z } = await import("warden:globals-zod");`,
    expected: "replaced below",
  },
  {
    name: "atob and btoa agree with Node's, errors included",
    code: `const tries = [() => btoa("hello"), () => btoa("\\xff\\xfe\\x00"), () => btoa(""), () => atob("aGVsbG8="),
        () => atob(" aGVs\\nbG8 "), () => atob("aGVsbG8"), () => atob("//79"), () => btoa("€"), () => atob("a"),
        () => atob("ab=c"), () => atob("ab==="), () => atob("YQ"), () => btoa(null), () => atob(undefined)];
      return tries.map((f) => { try { return f(); } catch (e) { return e.name; } });`,
  },
  {
    name: "structuredClone copies what Node's copies and refuses what it refuses",
    code: `const shared = new ArrayBuffer(8);
      const a = { d: new Date(5), r: /x+/gi, m: new Map([[1, { k: 2 }]]), s: new Set(["a"]), n: [1, , 3],
        big: 10n, u8: new Uint8Array(shared, 2, 4), f64: new Float64Array(shared, 0, 1), e: new RangeError("bad"),
        w: Object(7), str: Object("s"), nested: { deep: [{ x: null, y: undefined }] } };
      a.self = a;
      a.u8[0] = 9;
      const c = structuredClone(a);
      const summary = [c !== a, c.self === c, c.d instanceof Date && c.d.getTime(), String(c.r), c.r.lastIndex,
        c.m.get(1).k, c.m.get(1) !== a.m.get(1), [...c.s], 1 in c.n, c.n.length, c.big, c.u8.buffer === c.f64.buffer,
        c.u8.buffer !== shared, [...c.u8], c.u8.byteOffset, c.e instanceof RangeError, c.e.message, typeof c.w,
        c.w.valueOf(), c.str.valueOf(), JSON.stringify(c.nested), "y" in c.nested.deep[0],
        Object.getPrototypeOf(structuredClone(new (class K { constructor() { this.v = 1; } })())) === Object.prototype];
      const refused = [() => structuredClone(() => 1), () => structuredClone(Symbol("s")), () => structuredClone({ f() {} }),
        () => structuredClone(new WeakMap()), () => structuredClone()].map((f) => { try { f(); return "cloned"; } catch (e) { return e.name; } });
      return [summary, refused];`,
  },
  {
    // Node's order for the same code; pinned, since Node's real timers could swap on a busy machine.
    name: "queueMicrotask and setTimeout run in the order Node runs them",
    code: `const order = [];
      setTimeout(() => order.push("t20"), 20);
      setTimeout(() => { order.push("t0"); queueMicrotask(() => order.push("t0-micro")); setTimeout(() => order.push("t0-t5"), 5); }, 0);
      setTimeout(() => order.push("t0-second"), 0);
      const cancelled = setTimeout(() => order.push("cancelled"), 1);
      clearTimeout(cancelled);
      clearTimeout(undefined);
      setTimeout((a, b) => order.push(a + b), 10, "ar", "gs");
      queueMicrotask(() => order.push("micro"));
      Promise.resolve().then(() => order.push("then"));
      order.push("sync");
      await new Promise((resolve) => setTimeout(resolve, 30));
      return order;`,
    expected: ["sync", "micro", "then", "t0", "t0-micro", "t0-second", "t0-t5", "args", "t20"],
  },
  {
    name: "crypto: getRandomValues and randomUUID, with the Web Crypto API's refusals",
    code: `const bytes = crypto.getRandomValues(new Uint8Array(64));
      const words = crypto.getRandomValues(new BigUint64Array(4));
      const uuids = new Set(Array.from({ length: 200 }, () => crypto.randomUUID()));
      const refusals = [() => crypto.getRandomValues(new Uint8Array(65537)), () => crypto.getRandomValues(new Float64Array(2)),
        () => crypto.getRandomValues([1, 2]), () => crypto.getRandomValues(new DataView(new ArrayBuffer(4)))]
        .map((f) => { try { f(); return "filled"; } catch (e) { return [e.name, e instanceof Error]; } });
      return [bytes.some((b) => b !== 0), new Set(bytes).size > 16, words.every((w) => typeof w === "bigint"), uuids.size,
        [...uuids].every((u) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u)),
        crypto.getRandomValues(new Uint8Array(65536)).length, refusals];`,
    expected: [
      true,
      true,
      true,
      200,
      true,
      65536,
      [
        ["QuotaExceededError", true],
        ["TypeMismatchError", true],
        ["TypeMismatchError", true],
        ["TypeMismatchError", true],
      ],
    ],
  },
  {
    name: "the clock stands still while the tool computes; timers move it by their delay",
    code: `const d0 = Date.now(), p0 = performance.now(), n0 = new Date().getTime(), s0 = Date();
      let spins = 0;
      for (let i = 0; i < 50000; i++) spins += Date.now() - d0 + performance.now() - p0;
      const still = [Date.now() - d0, performance.now() - p0, new Date().getTime() - n0, Date() === s0, spins];
      await new Promise((resolve) => setTimeout(resolve, 250));
      const moved = [Date.now() - d0, performance.now() - p0];
      const viaConstructor = new (new Date().constructor)().getTime() - d0;
      return [still, moved, viaConstructor, typeof performance.timeOrigin, new Date(0).toISOString(), Date.UTC(2000, 0)];`,
    expected: [[0, 0, 0, true, 0], [250, 250], 250, "number", "1970-01-01T00:00:00.000Z", 946684800000],
  },
  {
    name: "DOMException and the list of globals a sandbox has",
    code: `const e = new DOMException("m", "DataCloneError");
      const names = ["URL", "URLSearchParams", "atob", "btoa", "structuredClone", "queueMicrotask", "setTimeout",
        "clearTimeout", "crypto", "console", "performance", "DOMException", "TextEncoder", "TextDecoder"];
      return [e.name, e.message, e.code, e instanceof Error, names.filter((n) => typeof globalThis[n] === "undefined"),
        ["setInterval", "fetch", "process", "require", "Buffer", "navigator", "WebAssembly"].filter((n) => typeof globalThis[n] !== "undefined")];`,
    expected: ["DataCloneError", "m", 25, true, [], []],
  },
];

// z.url(): run through the sdk's own zod in the sandbox; Node's answer comes from the host's zod.
const ZOD_ROW = ROWS.find((r) => r.name.startsWith("zod"))!;
ZOD_ROW.code = `const inputs = ["https://a.example/x?y", "mailto:x@y.z", "http://[::1]/", "not a url", "", "http://"];
  return inputs.map((u) => [z.url().safeParse(u).success, z.string().url().safeParse(u).success]);`;
delete ZOD_ROW.expected;

/**
 * Where Node's URL (ada) and the URL Standard's reference implementation (whatwg-url with the full tr46
 * table) disagree; the sandbox answers as the reference does. Ada accepts a label "xn--" whose Punycode
 * is empty or undecodable; UTS #46 (IgnoreInvalidPunycode false, as the URL Standard asks) refuses it.
 */
const ADA_DIFFERS = ["http://xn--a.com/", "https://xn--/"];

/** Runs a row's code on the host, with Node's own globals and zod (or another URL), for rows pinned to that. */
async function onHost(code: string, url: unknown = URL): Promise<unknown> {
  const { z } = await import("zod");
  const AsyncFunction = (async () => {}).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => unknown;
  return JSON.parse(JSON.stringify(await new AsyncFunction("caps", "z", "URL", code)({}, z, url), bigints));
}

/** The URL Standard's reference implementation on the host: whatwg-url with the real tr46. */
async function referenceUrl(): Promise<unknown> {
  const { createRequire } = await import("node:module");
  return (createRequire(import.meta.url)("whatwg-url") as { URL: unknown }).URL;
}

const URL_ROW = ROWS[0]!;

test("the URL table: Node's URL and the reference implementation agree but where listed", async () => {
  const node = (await onHost(URL_ROW.code)) as unknown[];
  const reference = (await onHost(URL_ROW.code, await referenceUrl())) as unknown[];
  const differ = URLS.filter((_, i) => JSON.stringify(node[i]) !== JSON.stringify(reference[i])).map(
    ([u]) => u,
  );
  expect(differ).toEqual(ADA_DIFFERS);
});

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}

const TOOL = {
  name: "globals",
  top: `const ROWS = { ${ROWS.map((r) => `${JSON.stringify(r.name)}: async (caps) => { ${r.code} }`).join(",\n")} };
const bigints = (_key, value) => (typeof value === "bigint" ? value + "n" : value);`,
  input: "z.object({ row: z.string() })",
  capabilities: { out: { type: "log" }, store: { type: "kv" } },
  run: "return JSON.parse(JSON.stringify(await ROWS[input.row](caps), bigints));",
};

describe.each(BACKENDS)("globals on %s", (backend) => {
  let runtime: Runtime;
  let tool: Tool;
  let dir: string;
  const lines: Array<{ level: LogLevel; message: string }> = [];
  beforeAll(async () => {
    dir = tempDir();
    runtime = createRuntime({ cwd: dir, log: (line) => lines.push(line) });
    tool = await runtime.loadTool(writeTool(dir, TOOL), {
      grants: { out: "log", store: "kv" },
      backend,
    });
  });
  afterAll(() => runtime.close());

  test.each(ROWS)("$name", async (row) => {
    // The URL table is held to the reference implementation, whose domain step idna.ts approximates.
    const expected =
      row === URL_ROW
        ? await onHost(row.code, await referenceUrl())
        : row.expected === undefined
          ? await onHost(row.code)
          : row.expected;
    expect(await tool.call({ row: row.name })).toEqual(expected);
  });

  test("the global object holds exactly the names the README lists", async () => {
    const file = writeTool(dir, { run: "return Object.getOwnPropertyNames(globalThis).sort();" });
    const lister = await runtime.loadTool(file, { backend });
    const extra = backend.startsWith("v8")
      ? ["AsyncDisposableStack", "Atomics", "DisposableStack", "Intl", "SuppressedError"]
      : ["InternalError"];
    expect(await lister.call({})).toEqual([...COMMON_GLOBALS, ...extra].sort());
    await lister.dispose();
  });

  test("console goes to the log handle: levels, objects, and a huge string cut to a bound", async () => {
    lines.length = 0;
    const file = writeTool(dir, {
      capabilities: { out: { type: "log" } },
      run: `console.log("one", 2, { a: [1, { b: 2 }], "k y": null }, [1, 2], 3n);
        console.info("info"); console.debug("debug"); console.warn("warn"); console.error(new TypeError("bad"));
        console.assert(1 === 1, "not shown"); console.assert(false, "shown");
        const cyclic = { name: "c" }; cyclic.self = cyclic; console.log(cyclic);
        console.log("x".repeat(5_000_000));
        return "logged";`,
    });
    const logged = await runtime.loadTool(file, { grants: { out: "log" }, backend });
    expect(await logged.call({})).toBe("logged");
    await logged.dispose();
    expect(lines.map(({ level, message }) => ({ level, message }))).toEqual([
      { level: "info", message: 'one 2 { a: [ 1, { b: 2 } ], "k y": null } [ 1, 2 ] 3n' },
      { level: "info", message: "info" },
      { level: "debug", message: "debug" },
      { level: "warn", message: "warn" },
      { level: "error", message: "TypeError: bad" },
      { level: "error", message: "Assertion failed shown" },
      { level: "info", message: '{ name: "c", self: [Circular] }' },
      { level: "info", message: `${"x".repeat(8192)}… (cut at 8192 characters)` },
    ]);
  });

  test("console without a log handle is dropped, and reaches nothing of the host", async () => {
    lines.length = 0;
    const file = writeTool(dir, {
      name: "quiet",
      run: `console.log("dropped"); console.error("x".repeat(1_000_000)); return typeof console.log;`,
    });
    const quiet = await runtime.loadTool(file, { backend });
    expect(await quiet.call({})).toBe("function");
    await quiet.dispose();
    expect(lines).toEqual([]);
    expect(handleCalls(runtime.auditRecords, "quiet")).toEqual([]);
  });

  test("a busy loop between two reads of the clock sees no time pass, with no clock grant", async () => {
    // The tool spins until the host has measured at least 60 ms of it, then compares its two readings.
    const file = writeTool(dir, {
      input: "z.object({ spins: z.number() })",
      run: `const d0 = Date.now(), p0 = performance.now(), n0 = new Date().valueOf();
        let x = 0;
        for (let i = 0; i < input.spins; i++) x += Math.sqrt(i);
        return [Date.now() - d0, performance.now() - p0, new Date().valueOf() - n0, x > 0];`,
    });
    const spinner = await runtime.loadTool(file, { backend, limits: { cpuMs: 5000, timeoutMs: 10000 } });
    let spins = 100_000;
    for (;;) {
      const started = performance.now();
      const seen = await spinner.call({ spins });
      const took = performance.now() - started;
      if (took >= 60 || spins >= 1e9) {
        expect(took).toBeGreaterThanOrEqual(60);
        expect(seen).toEqual([0, 0, 0, true]);
        break;
      }
      spins *= 4;
    }
    await spinner.dispose();
  });

  test("two fresh sandboxes draw different random numbers and UUIDs; Math.random stays in [0, 1)", async () => {
    const file = writeTool(dir, {
      run: `const xs = Array.from({ length: 1000 }, () => Math.random());
        if (!xs.every((x) => x >= 0 && x < 1) || new Set(xs).size !== 1000) return "Math.random is broken";
        return [Math.random(), crypto.randomUUID(), [...crypto.getRandomValues(new Uint8Array(8))]];`,
    });
    const draws = [];
    for (let i = 0; i < 2; i++) {
      const fresh = await runtime.loadTool(file, { backend });
      draws.push(await fresh.call({}));
      await fresh.dispose();
    }
    const [a, b] = draws as [unknown[], unknown[]];
    for (let i = 0; i < 3; i++) expect(a[i]).not.toEqual(b[i]);
  });

  test("a timer left pending when a call ends never runs, in that call or a later one", async () => {
    const file = writeTool(dir, {
      capabilities: { store: { type: "kv" } },
      input: "z.object({ step: z.number() })",
      top: "let late = 0;",
      run: `if (input.step === 0) {
          setTimeout(() => { late++; caps.store.set("late", late); }, 0);
          setTimeout(() => { late++; }, 1);
          return "set";
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        return [late, await caps.store.get("late")];`,
    });
    const timed = await runtime.loadTool(file, { grants: { store: "kv" }, backend });
    expect(await timed.call({ step: 0 })).toBe("set");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await timed.call({ step: 1 })).toEqual([0, null]);
    await timed.dispose();
  });

  test("a module's top-level await on a timer loads; a timer it leaves pending never runs", async () => {
    const file = writeTool(dir, {
      top: `const t0 = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 5));
        const waited = Date.now() - t0;
        setTimeout(() => { globalThis.leaked = true; }, 0);`,
      run: "await new Promise((resolve) => setTimeout(resolve, 1)); return [waited, globalThis.leaked ?? false];",
    });
    const loaded = await runtime.loadTool(file, { backend });
    expect(await loaded.call({})).toEqual([5, false]);
    await loaded.dispose();
  });

  test("a module that throws after waiting on a timer fails to load with its error", async () => {
    const file = writeTool(dir, {
      top: `await new Promise((resolve) => setTimeout(resolve, 5)); throw new TypeError("late");`,
      run: "return 1;",
    });
    const failure = await runtime
      .loadTool(file, { backend, limits: { timeoutMs: 2000 } })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WardenError);
    // On V8, isolated-vm's module evaluation gives no handle on a top-level await that waits on the host, so
    // the backend waits for the tool to register: a module that throws after such an await never does, and
    // its load ends on the wall-time limit instead (the host is never held; only the message is poorer).
    const expected = backend.startsWith("v8")
      ? [
          "LIMIT_EXCEEDED",
          "loading the tool exceeded its wall-time limit of 2000 ms (raise it with --timeout-ms or timeoutMs)",
        ]
      : ["LOAD_ERROR", "TypeError: late"];
    expect([(failure as WardenError).code, (failure as WardenError).message]).toEqual(expected);
  });

  test("structuredClone of handles, the global object and other sandbox objects is refused", async () => {
    const file = writeTool(dir, {
      name: "cloner",
      capabilities: { store: { type: "kv" } },
      run: `return [() => caps.store, () => caps, () => globalThis, () => console, () => crypto, () => ({ get x() { return caps.store.get; } })]
        .map((f) => { try { structuredClone(f()); return "cloned"; } catch (e) { return e.name; } });`,
    });
    const cloner = await runtime.loadTool(file, { grants: { store: "kv" }, backend });
    expect(await cloner.call({})).toEqual(Array(6).fill("DataCloneError"));
    expect(handleCalls(runtime.auditRecords, "cloner")).toEqual([]);
    await cloner.dispose();
  });

  test("a timer that never ends its chain, or a flood of timers, ends on a limit, not in the host", async () => {
    const file = writeTool(dir, {
      input: "z.object({ kind: z.string() })",
      // The chain's timers hold the promise's resolve: an unreachable pending promise is one V8 may collect,
      // and isolated-vm then reports it abandoned (TOOL_ERROR) instead of letting the limit end the call.
      run: `if (input.kind === "chain") await new Promise((resolve) => { const again = () => setTimeout(again, 1, resolve); again(); });
        for (;;) setTimeout(() => {}, 1e9);`,
    });
    const runaway = await runtime.loadTool(file, { backend, limits: { cpuMs: 300, timeoutMs: 3000 } });
    const chain = await runaway.call({ kind: "chain" }).catch((e: unknown) => e);
    expect(chain).toBeInstanceOf(WardenError);
    expect((chain as WardenError).code).toBe("LIMIT_EXCEEDED");
    const flood = await runaway.call({ kind: "flood" }).catch((e: unknown) => e);
    expect((flood as WardenError).message).toBe("RangeError: more than 10000 timers pending at once");
    await runaway.dispose();
  });
});

/** Every global name both engines have (README, "A sandbox's globals"); each engine adds a few. */
const COMMON_GLOBALS = [
  ...["AggregateError", "Array", "ArrayBuffer", "BigInt", "BigInt64Array", "BigUint64Array", "Boolean"],
  ...["DataView", "Date", "Error", "EvalError", "FinalizationRegistry", "Float16Array", "Float32Array"],
  ...["Float64Array", "Function", "Infinity", "Int16Array", "Int32Array", "Int8Array", "Iterator", "JSON"],
  ...[
    "Map",
    "Math",
    "NaN",
    "Number",
    "Object",
    "Promise",
    "Proxy",
    "RangeError",
    "ReferenceError",
    "Reflect",
  ],
  ...["RegExp", "Set", "SharedArrayBuffer", "String", "Symbol", "SyntaxError", "TypeError", "URIError"],
  ...["Uint16Array", "Uint32Array", "Uint8Array", "Uint8ClampedArray", "WeakMap", "WeakRef", "WeakSet"],
  ...["decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "eval", "globalThis"],
  ...["isFinite", "isNaN", "parseFloat", "parseInt", "undefined", "unescape"],
  // The guest runtime's.
  ...["URL", "URLSearchParams", "atob", "btoa", "structuredClone", "queueMicrotask", "setTimeout"],
  ...["clearTimeout", "crypto", "console", "performance", "DOMException", "TextEncoder", "TextDecoder"],
  ...["__warden", "__zod_globalConfig", "__zod_globalRegistry"],
];

/** The handle calls a tool made, as the audit recorded them. */
function handleCalls(records: readonly AuditRecord[], tool: string): AuditRecord[] {
  return records.filter((r) => r.tool === tool && r.event === "call" && r.handle !== undefined);
}
