// The wasm backend through the host API: the example components with the same grants as the JS tools,
// denials, imports refused before anything runs, limits (CPU, wall time, memory, output) and result checks.

import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { failureText as failure } from "../support/failure.ts";
import { tempDir } from "../support/tools.ts";
import { BUILD, definition, ensureExamplesBuilt, toolWat, witWithWorld, writeComponent } from "./fixtures.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const READ_FILE_JS = join(REPO, "examples/tools/read-file.ts");
const READ_FILE = join(BUILD, "read-file.wasm");
const SPIN = join(BUILD, "spin.wasm");
const DATA = join(REPO, "examples/data");

let runtime: Runtime;
let dir: string;

beforeAll(() => {
  ensureExamplesBuilt();
  dir = tempDir("warden-wasm-");
  runtime = createRuntime({ cwd: REPO, isolation: "in-process" });
}, 300_000);
afterAll(async () => {
  await runtime.close();
});

/** Settles when a host timer of `ms` fires: if it fires before a call ends, the host's event loop was free. */
function hostTimer(ms: number): Promise<number> {
  return new Promise((resolve) => setTimeout(() => resolve(performance.now()), ms));
}

async function once(path: string, input: unknown, options: Parameters<Runtime["loadTool"]>[1] = {}) {
  const tool = await runtime.loadTool(path, options);
  try {
    return await tool.call(input);
  } finally {
    await tool.dispose();
  }
}

describe("read-file.wasm answers as examples/tools/read-file.ts does", () => {
  const grants = { files: "fs:read:examples/data" };

  test("the same definition, output and denial", async () => {
    const js = await runtime.loadTool(READ_FILE_JS, { grants, backend: "v8:in-process" });
    const wasm = await runtime.loadTool(READ_FILE, { grants });
    expect(wasm.backend).toBe("wasm");
    expect(wasm.definition.name).toBe(js.definition.name);
    expect(wasm.definition.capabilities).toEqual(js.definition.capabilities);
    expect(await wasm.call({ path: "hello.txt" })).toEqual(await js.call({ path: "hello.txt" }));
    expect(await wasm.call({ path: "hello.txt" })).toEqual({ text: "Hello from Warden.\n" });
    const denied = { path: "../../package.json" };
    expect(await failure(wasm.call(denied))).toEqual(await failure(js.call(denied)));
    expect(await failure(wasm.call(denied))).toEqual({
      code: "CAPABILITY_DENIED",
      message: 'path "../../package.json" is outside the handle\'s directory',
    });
    expect(await failure(wasm.call({ path: "missing.txt" }))).toMatchObject({ code: "NOT_FOUND" });
    await js.dispose();
    await wasm.dispose();
  });

  test("text that is not ASCII crosses both ways intact", async () => {
    const text = "héllo wörld — 😀 中文 \u{10ffff}\n";
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "utf8.txt"), text);
    expect(await once(READ_FILE, { path: "utf8.txt" }, { grants: { files: `fs:read:${dir}` } })).toEqual({
      text,
    });
  });

  test("the input is checked against the component's input schema before it runs", async () => {
    expect(await failure(once(READ_FILE, { path: 3 }, { grants }))).toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("expected string, received number"),
    });
  });

  test("without its grant it is refused before it runs, naming the --grant that would allow it", async () => {
    expect(await failure(runtime.loadTool(READ_FILE))).toEqual({
      code: "CAPABILITY_DENIED",
      message:
        'tool "read-file" needs capability "files" (fs: read) and no grant was given; grant it with --grant files=fs:read:DIR',
    });
    const before = runtime.auditRecords.filter((r) => r.event === "call").length;
    expect(runtime.auditRecords.filter((r) => r.event === "call").length).toBe(before);
  });

  test("after a revoke the handle is gone, as from a JS tool's caps", async () => {
    const wasm = await runtime.loadTool(READ_FILE, { grants });
    const js = await runtime.loadTool(READ_FILE_JS, { grants, backend: "v8:in-process" });
    await wasm.revoke("files");
    await js.revoke("files");
    expect(await failure(wasm.call({ path: "hello.txt" }))).toEqual({
      code: "TOOL_ERROR",
      message: 'the tool holds no fs handle named "files"',
    });
    expect((await failure(js.call({ path: "hello.txt" }))).code).toBe("TOOL_ERROR");
    await wasm.dispose();
    await js.dispose();
  });

  test("every handle call is in the audit log, like a JS tool's", async () => {
    await once(READ_FILE, { path: "hello.txt" }, { grants });
    const record = runtime.auditRecords.findLast((r) => r.op === "readText");
    expect(record).toMatchObject({ tool: "read-file", decision: "allow", summary: "readText hello.txt" });
  });
});

describe("imports are checked before anything runs", () => {
  test("a component importing WASI (or anything not Warden's) is a LOAD_ERROR", async () => {
    const wit =
      "package wasi:filesystem@0.2.3;\ninterface preopens { get-directories: func() -> list<string>; }\nworld evil { import preopens; }\n";
    const path = await writeComponent(
      dir,
      `(module
        (import "wasi:filesystem/preopens@0.2.3" "get-directories" (func (param i32)))
        (memory (export "memory") 1)
        (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024)))`,
      { world: "evil", wit },
    );
    expect(await failure(runtime.loadTool(path))).toEqual({
      code: "LOAD_ERROR",
      message:
        "the component imports wasi:filesystem/preopens@0.2.3 (an interface), which Warden does not provide; a component may import only warden:tool/fs@0.1.0, warden:tool/net@0.1.0, warden:tool/kv@0.1.0, warden:tool/clock@0.1.0, warden:tool/log@0.1.0, warden:tool/model@0.1.0 (build it with every WASI feature disabled)",
    });
  });

  const NET_IMPORT = `(import "warden:tool/net@0.1.0" "[static]client.granted" (func (param i32 i32 i32)))`;
  const sneaky = () => witWithWorld("world sneaky { include bare; import net; }").replace(/\n$/, "");

  test("importing a capability interface the tool does not declare is a LOAD_ERROR", async () => {
    const path = await writeComponent(dir, toolWat(definition("sneaky"), { ok: "{}" }, NET_IMPORT), {
      world: "sneaky",
      wit: sneaky(),
    });
    const error = await failure(runtime.loadTool(path));
    expect(error.code).toBe("LOAD_ERROR");
    expect(error.message).toMatch(
      /^the component imports warden:tool\/net@0.1.0 but its describe\(\) declares no capability of type "net"/,
    );
  });

  test("a declared, imported capability without a grant is denied, naming the --grant", async () => {
    const declared = definition("fetcher", { capabilities: { web: { type: "net", rights: ["GET"] } } });
    const path = await writeComponent(dir, toolWat(declared, { ok: "{}" }, NET_IMPORT), {
      world: "sneaky",
      wit: sneaky(),
    });
    expect(await failure(runtime.loadTool(path))).toEqual({
      code: "CAPABILITY_DENIED",
      message:
        'tool "fetcher" needs capability "web" (net: GET) and no grant was given; grant it with --grant web=net:GET:ORIGIN',
    });
    const granted = await runtime.loadTool(path, { grants: { web: "net:GET:https://api.example.com" } });
    expect(await granted.call({})).toEqual({});
    await granted.dispose();
  });

  test("a core module, or bytes that are not WebAssembly, are LOAD_ERRORs", async () => {
    const core = join(dir, "core.wasm");
    const { parse } = await import("@bytecodealliance/jco-transpile/wasm-tools");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(core, await parse("(module)"));
    expect((await failure(runtime.loadTool(core))).message).toMatch(/core module, not a component/);
    const junk = join(dir, "junk.wasm");
    writeFileSync(junk, "not wasm at all");
    expect(await failure(runtime.loadTool(junk))).toMatchObject({ code: "LOAD_ERROR" });
    // A component header over a section jco cannot read: jco's error, in a worker, as a LOAD_ERROR.
    const broken = join(dir, "broken.wasm");
    writeFileSync(broken, Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x7f, 0x01, 0x00));
    expect(await failure(runtime.loadTool(broken))).toMatchObject({
      code: "LOAD_ERROR",
      message: expect.stringMatching(/^jco could not transpile the component: /),
    });
  });

  test("a JS tool on the wasm backend, or a component on another, is a USAGE error", async () => {
    expect((await failure(runtime.loadTool(READ_FILE_JS, { backend: "wasm" }))).code).toBe("USAGE");
    expect(await failure(runtime.loadTool(READ_FILE, { backend: "quickjs" }))).toEqual({
      code: "USAGE",
      message: "read-file.wasm is a WebAssembly component: run it with --backend wasm",
    });
  });
});

describe("limits", () => {
  test("spin ends on its CPU limit, and the host stays responsive meanwhile", async () => {
    const spin = await runtime.loadTool(SPIN, { limits: { cpuMs: 300 } });
    const reader = await runtime.loadTool(READ_FILE, { grants: { files: `fs:read:${DATA}` } });
    const started = performance.now();
    const spinning = failure(spin.call({}));
    const timer = hostTimer(20);
    // Another tool's call, and timers, proceed while the component spins on its own thread.
    expect(await reader.call({ path: "hello.txt" })).toEqual({ text: "Hello from Warden.\n" });
    expect(await spinning).toEqual({
      code: "LIMIT_EXCEEDED",
      message: "the tool call exceeded its CPU-time limit of 300 ms (raise it with --cpu-ms or cpuMs)",
    });
    const ended = performance.now();
    expect(await timer).toBeLessThan(ended);
    // A hang bound, not a speed: 300 ms of CPU can take seconds of wall time on a loaded machine.
    expect(ended - started).toBeLessThan(20_000);
    // The next call gets a fresh sandbox, and ends the same way.
    expect((await failure(spin.call({}))).code).toBe("LIMIT_EXCEEDED");
    await spin.dispose();
    await reader.dispose();
  });

  test("spin ends on its wall-time limit when that comes first", async () => {
    expect(await failure(once(SPIN, {}, { limits: { timeoutMs: 200, cpuMs: 60_000 } }))).toEqual({
      code: "LIMIT_EXCEEDED",
      message:
        "the tool call exceeded its wall-time limit of 200 ms (raise it with --timeout-ms or timeoutMs)",
    });
  });

  test.each([16, 32])(
    "memory.grow is refused past a %i MiB limit, inside the component",
    async (memoryMb) => {
      const path = await writeComponent(dir, toolWat(definition("grower"), "grow"));
      expect(await once(path, {}, { limits: { memoryMb, cpuMs: 20_000, timeoutMs: 30_000 } })).toEqual({
        pages: memoryMb * 16,
      });
    },
  );

  test("a trap with memory at its limit (an allocator that gave up) is reported as the memory limit", async () => {
    const hog = `
      (block $full (loop $more
        (br_if $full (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
        (br $more)))
      unreachable`;
    const path = await writeComponent(dir, toolWat(definition("hog"), { wat: hog }));
    const tool = await runtime.loadTool(path, { limits: { memoryMb: 16 } });
    expect(await failure(tool.call({}))).toEqual({
      code: "LIMIT_EXCEEDED",
      message: "the tool call exceeded its memory limit of 16 MiB (raise it with --memory-mb or memoryMb)",
    });
    await tool.dispose();
  });

  test("a component whose memory starts above the limit is refused at load", async () => {
    const wat = toolWat(definition("big"), { ok: "{}" }).replace(
      '(memory (export "memory") 1)',
      '(memory (export "memory") 200)',
    );
    const path = await writeComponent(dir, wat);
    expect(await failure(runtime.loadTool(path, { limits: { memoryMb: 8 } }))).toEqual({
      code: "LIMIT_EXCEEDED",
      message:
        "the component's linear memories start at 13 MiB, over its memory limit of 8 MiB (raise it with --memory-mb or memoryMb)",
    });
  });

  test("output over the output limit is LIMIT_EXCEEDED", async () => {
    const path = await writeComponent(
      dir,
      toolWat(definition("chatty"), { ok: JSON.stringify({ s: "x".repeat(3000) }) }),
    );
    expect(await failure(once(path, {}, { limits: { outputKb: 1 } }))).toEqual({
      code: "LIMIT_EXCEEDED",
      message:
        "the tool's output is about 3 KiB, over its output limit of 1 KiB (raise it with --output-kb or outputKb)",
    });
  });
});

describe("results", () => {
  const strict = definition("strict", {
    outputSchema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
  });

  test("output that breaks the output schema is INVALID_OUTPUT", async () => {
    const path = await writeComponent(dir, toolWat(strict, { ok: '{"n":"seven"}' }));
    expect(await failure(once(path, {}))).toMatchObject({
      code: "INVALID_OUTPUT",
      message: expect.stringMatching(
        /^the tool's output does not match its output schema: .*expected number/s,
      ),
    });
    const fine = await writeComponent(dir, toolWat(strict, { ok: '{"n":7}' }));
    expect(await once(fine, {})).toEqual({ n: 7 });
  });

  test("text that is not JSON is a TOOL_ERROR", async () => {
    const path = await writeComponent(dir, toolWat(definition("garbled"), { ok: '{"a":1} , "x"' }));
    expect(await failure(once(path, {}))).toEqual({
      code: "TOOL_ERROR",
      message: "the component's run returned text that is not JSON",
    });
  });

  test("an error the component reports is its own, unless the kernel raised it", async () => {
    const own = await writeComponent(
      dir,
      toolWat(definition("own"), { err: { code: "TOOL_ERROR", message: "no luck" } }),
    );
    expect(await failure(once(own, {}))).toEqual({ code: "TOOL_ERROR", message: "no luck" });
    const forged = await writeComponent(
      dir,
      toolWat(definition("forger"), { err: { code: "CAPABILITY_DENIED", message: "pretend" } }),
    );
    expect(await failure(once(forged, {}))).toEqual({
      code: "TOOL_ERROR",
      message: "CAPABILITY_DENIED: pretend",
    });
  });

  test("a trap is a TOOL_ERROR, and the next call gets a fresh instance", async () => {
    const path = await writeComponent(dir, toolWat(definition("trapper"), "trap"));
    const tool = await runtime.loadTool(path);
    const trap = "the component trapped: RuntimeError: wasm trap: wasm `unreachable` instruction executed";
    expect(await failure(tool.call({}))).toEqual({ code: "TOOL_ERROR", message: trap });
    expect((await failure(tool.call({}))).message).toBe(trap);
    await tool.dispose();
  });
});

describe("handle calls from WebAssembly text", () => {
  const CLOCK = `
    (import "warden:tool/clock@0.1.0" "[static]timer.granted" (func $granted (param i32 i32 i32)))
    (import "warden:tool/clock@0.1.0" "[method]timer.sleep" (func $sleep (param i32 i32 i32)))
    (data (i32.const 2048) "clock")`;
  // run: timer.granted("clock"), then timer.sleep(60000), then ok("{}") if both succeeded, else their error.
  const SLEEP_RUN = `
    (call $granted (i32.const 2048) (i32.const 5) (i32.const 64))
    (if (i32.load8_u (i32.const 64)) (then
      (i32.store8 (i32.const 32) (i32.const 1))
      (i64.store (i32.const 36) (i64.load (i32.const 68)))
      (i64.store (i32.const 44) (i64.load (i32.const 76)))
      (return (i32.const 32))))
    (call $sleep (i32.load (i32.const 68)) (i32.const 60000) (i32.const 96))
    (if (i32.load8_u (i32.const 96)) (then
      (i32.store8 (i32.const 32) (i32.const 1))
      (i64.store (i32.const 36) (i64.load (i32.const 100)))
      (i64.store (i32.const 44) (i64.load (i32.const 108)))
      (return (i32.const 32))))
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.store (i32.const 36) (i32.const 2048))
    (i32.store (i32.const 40) (i32.const 2))
    (i32.const 32)`;

  async function sleeper(): Promise<string> {
    const wat = toolWat(
      definition("sleeper", { capabilities: { clock: { type: "clock", rights: ["sleep"] } } }),
      { wat: SLEEP_RUN },
      CLOCK,
    );
    return writeComponent(dir, wat, {
      world: "sleeper",
      wit: witWithWorld("world sleeper { include bare; import clock; }"),
    });
  }

  test("a component blocked in a handle call ends on its wall-time limit; the host is free meanwhile", async () => {
    const tool = await runtime.loadTool(await sleeper(), {
      grants: { clock: "clock:read,sleep" },
      limits: { timeoutMs: 300 },
    });
    const started = performance.now();
    const timer = hostTimer(20);
    expect(await failure(tool.call({}))).toEqual({
      code: "LIMIT_EXCEEDED",
      message:
        "the tool call exceeded its wall-time limit of 300 ms (raise it with --timeout-ms or timeoutMs)",
    });
    const ended = performance.now();
    expect(await timer).toBeLessThan(ended);
    // Hang bounds, not speeds (the sleep it was blocked in asked for 60 s).
    expect(ended - started).toBeLessThan(20_000);
    const disposing = performance.now();
    await tool.dispose();
    expect(performance.now() - disposing).toBeLessThan(20_000);
  });

  test("a handle call the grant does not allow is the kernel's CAPABILITY_DENIED", async () => {
    const tool = await runtime.loadTool(await sleeper(), { grants: { clock: "clock:read" } });
    const error = await failure(tool.call({}));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.message).toMatch(/"sleep" right is missing on handle "clock"/);
    await tool.dispose();
  });
});

describe("each capability interface, called from WebAssembly text", () => {
  /** If the result at `at` is an error, returns it as run's error (the record sits 4 bytes in). */
  const check = (at: number) => `
    (if (i32.load8_u (i32.const ${at})) (then
      (i32.store8 (i32.const 32) (i32.const 1))
      (i64.store (i32.const 36) (i64.load (i32.const ${at + 4})))
      (i64.store (i32.const 44) (i64.load (i32.const ${at + 12})))
      (return (i32.const 32))))`;
  /** run's ok result: the string at (ptr, len) read from memory. */
  const okFrom = (ptrAt: number, lenAt: number) => `
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.store (i32.const 36) (i32.load (i32.const ${ptrAt})))
    (i32.store (i32.const 40) (i32.load (i32.const ${lenAt})))
    (i32.const 32)`;

  async function component(
    name: string,
    iface: string,
    imports: string,
    data: string,
    body: string,
    caps: object,
  ) {
    const wat = toolWat(definition(name, { capabilities: caps }), { wat: body }, `${imports}\n${data}`);
    return writeComponent(dir, wat, {
      world: name,
      wit: witWithWorld(`world ${name} { include bare; import ${iface}; }`),
    });
  }

  test("kv: set, then get the value back", async () => {
    const path = await component(
      "kvtool",
      "kv",
      `(import "warden:tool/kv@0.1.0" "[static]store.granted" (func $granted (param i32 i32 i32)))
       (import "warden:tool/kv@0.1.0" "[method]store.set" (func $set (param i32 i32 i32 i32 i32 i32)))
       (import "warden:tool/kv@0.1.0" "[method]store.get" (func $get (param i32 i32 i32 i32)))`,
      `(data (i32.const 2048) "store") (data (i32.const 2064) "k") (data (i32.const 2080) "{\\"n\\":1}")`,
      `(call $granted (i32.const 2048) (i32.const 5) (i32.const 64)) ${check(64)}
       (call $set (i32.load (i32.const 68)) (i32.const 2064) (i32.const 1) (i32.const 2080) (i32.const 7) (i32.const 96)) ${check(96)}
       (call $get (i32.load (i32.const 68)) (i32.const 2064) (i32.const 1) (i32.const 128)) ${check(128)}
       ${okFrom(136, 140)}`,
      { store: { type: "kv", rights: null } },
    );
    expect(await once(path, {}, { grants: { store: "kv" } })).toEqual({ n: 1 });
    const denied = await failure(once(path, {}, { grants: { store: "kv:read" } }));
    expect(denied.code).toBe("CAPABILITY_DENIED");
    expect(denied.message).toMatch(/"write" right is missing on handle "store"/);
  });

  test("net: a GET to the granted origin, and one to another origin refused", async () => {
    const server = createServer((_req, res) => res.end("hi"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fetcher = (url: string) =>
      component(
        "nettool",
        "net",
        `(import "warden:tool/net@0.1.0" "[static]client.granted" (func $granted (param i32 i32 i32)))
         (import "warden:tool/net@0.1.0" "[method]client.fetch"
           (func $fetch (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))`,
        `(data (i32.const 2048) "web") (data (i32.const 2064) "GET") (data (i32.const 2080) "${url}")
         (data (i32.const 3000) "{\\"status\\":")`,
        `(local $end i32)
         (call $granted (i32.const 2048) (i32.const 3) (i32.const 64)) ${check(64)}
         (call $fetch (i32.load (i32.const 68)) (i32.const 2080) (i32.const ${url.length})
           (i32.const 2064) (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
           (i32.const 256)) ${check(256)}
         (local.set $end (call $itoa (i32.load16_u (i32.const 260)) (i32.const 3010)))
         (i32.store8 (local.get $end) (i32.const 125))
         (i32.store (i32.const 200) (i32.const 3000))
         (i32.store (i32.const 204) (i32.sub (i32.add (local.get $end) (i32.const 1)) (i32.const 3000)))
         ${okFrom(200, 204)}`,
        { web: { type: "net", rights: ["GET"] } },
      );
    try {
      const grants = { web: `net:GET:${origin}` };
      expect(await once(await fetcher(`${origin}/`), {}, { grants })).toEqual({ status: 200 });
      const denied = await failure(once(await fetcher("http://169.254.169.254/latest"), {}, { grants }));
      expect(denied.code).toBe("CAPABILITY_DENIED");
      expect(denied.message).toMatch(/is not one of this handle's origins/);
    } finally {
      server.close();
    }
  });

  test("model: a completion from the granted scripted model, and a call past its budget refused", async () => {
    const script = join(dir, "model-script.yaml");
    writeFileSync(
      script,
      'modeltool:\n  - expect: "hi"\n    text: "hello from the script"\n    usage: { input_tokens: 3, output_tokens: 4 }\n',
    );
    const request = JSON.stringify({ messages: [{ role: "user", content: "hi" }], maxTokens: 8 });
    const path = await component(
      "modeltool",
      "model",
      `(import "warden:tool/model@0.1.0" "[static]model.granted" (func $granted (param i32 i32 i32)))
       (import "warden:tool/model@0.1.0" "[method]model.complete" (func $complete (param i32 i32 i32 i32)))`,
      `(data (i32.const 2048) "llm") (data (i32.const 2064) ${JSON.stringify(request)})`,
      `(call $granted (i32.const 2048) (i32.const 3) (i32.const 64)) ${check(64)}
       (call $complete (i32.load (i32.const 68)) (i32.const 2064) (i32.const ${request.length}) (i32.const 128)) ${check(128)}
       ${okFrom(132, 136)}`,
      { llm: { type: "model", rights: null } },
    );
    expect(await once(path, {}, { grants: { llm: `model:scripted:${script}` } })).toEqual({
      provider: "scripted",
      model: "scripted",
      message: { role: "assistant", content: "hello from the script" },
      stopReason: "end",
      usage: { inputTokens: 3, outputTokens: 4 },
    });
    const refused = await failure(
      once(path, {}, { grants: { llm: `model:scripted:${script};maxTokens=4` } }),
    );
    expect(refused).toEqual({
      code: "LIMIT_EXCEEDED",
      message: "maxTokens 8 is over the model handle's maxTokensPerCall budget (4)",
    });
  });

  test("log: a line reaches the host's log, as the tool's", async () => {
    const lines: Array<{ level: string; message: string; owner: string }> = [];
    const logged = createRuntime({ cwd: REPO, isolation: "in-process", log: (line) => lines.push(line) });
    const path = await component(
      "logtool",
      "log",
      `(import "warden:tool/log@0.1.0" "[static]logger.granted" (func $granted (param i32 i32 i32)))
       (import "warden:tool/log@0.1.0" "[method]logger.write" (func $write (param i32 i32 i32 i32 i32)))`,
      `(data (i32.const 2048) "log") (data (i32.const 2064) "hello from WAT") (data (i32.const 2096) "{}")`,
      `(call $granted (i32.const 2048) (i32.const 3) (i32.const 64)) ${check(64)}
       (call $write (i32.load (i32.const 68)) (i32.const 2) (i32.const 2064) (i32.const 14) (i32.const 96)) ${check(96)}
       (i32.store (i32.const 200) (i32.const 2096)) (i32.store (i32.const 204) (i32.const 2))
       ${okFrom(200, 204)}`,
      { log: { type: "log", rights: null } },
    );
    const tool = await logged.loadTool(path, { grants: { log: "log" } });
    expect(await tool.call({})).toEqual({});
    expect(lines).toEqual([{ level: "warn", message: "hello from WAT", owner: "logtool" }]);
    await logged.close();
  });
});
