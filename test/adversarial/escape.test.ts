// Escape attempts, as a table, against every backend: each must end with the host alive, a clean result or
// error, and nothing outside the grant touched.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime, WardenError } from "../../runtime/index.ts";
import { BACKENDS, type ToolSource, tempDir, writeTool } from "../support/tools.ts";

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message: string };

interface EscapeCase extends ToolSource {
  name: string;
  grants?: Record<string, string>;
  timeoutMs?: number;
  check: (outcome: Outcome, ctx: { root: string; outside: string }) => void;
}

const FILES = { files: { type: "fs", rights: ["read", "list"] } };
// setTimeout, clearTimeout, queueMicrotask and structuredClone are the guest runtime's own, none reaching
// the host (sdk/guest/globals/; test/conformance/globals.test.ts): their objects are probed below instead.
const HOST_NAMES = [
  "process",
  "require",
  "module",
  "exports",
  "__dirname",
  "__filename",
  "fetch",
  "setInterval",
  "setImmediate",
  "Buffer",
  "global",
  "XMLHttpRequest",
  "WebSocket",
  "importScripts",
  "Deno",
  "Bun",
  "navigator",
  "ivm",
  "_ivm",
  "__wardenSend",
  "postMessage",
];

// Objects a guest can reach, each probed for a path back to a host Function constructor.
const REACHABLE = [
  "({})",
  "[]",
  "globalThis",
  "caps.files",
  "caps.files.readText",
  "caps.files.attenuate",
  "z",
  "z.object({})",
  "WardenError",
  "new TextEncoder()",
  "input",
  "Error",
  "Symbol",
  "(async () => {})",
  "(function* () {})",
  "(async function* () {})",
  "deniedError",
  "Promise.resolve()",
  "new Proxy({}, {})",
  "new ArrayBuffer(8)",
  "setTimeout",
  "queueMicrotask",
  "structuredClone",
  "new URL('https://a.example/')",
  "URLSearchParams",
  "crypto",
  "crypto.getRandomValues",
  "console",
  "console.log",
  "performance",
  "new Date()",
  "Date",
  "atob",
  "new DOMException('m')",
];

const returnsValue = (value: unknown) => (o: Outcome) => expect(o).toEqual({ ok: true, value });
const failsWith = (code: string, pattern?: RegExp) => (o: Outcome) => {
  expect(o.ok).toBe(false);
  if (!o.ok) {
    expect(o.code).toBe(code);
    if (pattern) expect(o.message).toMatch(pattern);
  }
};

const CASES: EscapeCase[] = [
  {
    name: "no host globals in scope",
    run: `return ${JSON.stringify(HOST_NAMES)}.filter((n) => typeof globalThis[n] !== "undefined");`,
    check: returnsValue([]),
  },
  {
    name: "constructor chains from every reachable object lead to the guest's own Function",
    capabilities: FILES,
    top: `import { WardenError } from "warden/sdk";`,
    run: `
      let deniedError;
      try { await caps.files.readText("../x"); } catch (e) { deniedError = e; }
      const probes = [${REACHABLE.map((e) => `() => ${e}`).join(", ")}];
      const out = [];
      for (const probe of probes) {
        const obj = probe();
        const F = obj.constructor.constructor;
        const r = F("return typeof process + typeof require + typeof globalThis.fetch")();
        out.push(r && typeof r.then === "function" ? await r : r);
      }
      return out;`,
    check: returnsValue(REACHABLE.map(() => "undefinedundefinedundefined")),
  },
  {
    name: "Error.prepareStackTrace and call sites show no host frames",
    capabilities: FILES,
    run: `
      const seen = [];
      Error.prepareStackTrace = (err, frames) => {
        for (const f of frames) seen.push(String(f.getFileName()), String(f.getFunctionName()), String(typeof f.getThis?.()));
        return "trace";
      };
      try { await caps.files.readText("../outside/secret.txt"); } catch (e) { seen.push(String(e.stack)); }
      seen.push(String(new Error("local").stack));
      return seen.join("|");`,
    check: (o, { root }) => {
      expect(o.ok).toBe(true);
      if (!o.ok) return;
      const text = String(o.value);
      expect(text).not.toContain(root);
      expect(text).not.toContain(process.cwd());
      expect(text).not.toMatch(/node:|node_modules|\.ts:/);
    },
  },
  {
    name: "errors from the host carry a code and a message, no host path or stack",
    capabilities: FILES,
    run: `
      try { await caps.files.readText("../outside/secret.txt"); return "read"; }
      catch (e) { return { code: e.code, name: e.name, own: Object.getOwnPropertyNames(e).sort(), text: e.message + e.stack, isWarden: e instanceof WardenError }; }`,
    top: `import { WardenError } from "warden/sdk";`,
    check: (o, { root }) => {
      expect(o.ok).toBe(true);
      if (!o.ok) return;
      const v = o.value as { code: string; name: string; text: string; isWarden: boolean };
      expect(v.code).toBe("CAPABILITY_DENIED");
      expect(v.isWarden).toBe(true);
      expect(v.text).not.toContain(root);
      expect(v.text).not.toMatch(/node:|node_modules|\/work\//);
    },
  },
  {
    name: "a Proxy passed as handle arguments traps only inside the guest",
    capabilities: FILES,
    run: `
      const p = new Proxy({}, { get() { throw new Error("trap fired"); } });
      try { await caps.files.readText(p); return "no error"; } catch (e) { return e.message; }`,
    check: (o) => {
      expect(o.ok).toBe(true);
      if (o.ok) expect(String(o.value)).toMatch(/trap fired|INVALID|expected string/i);
    },
  },
  {
    name: "a Proxy output that changes on each read cannot pass the output schema",
    output: "z.object({ text: z.string() })",
    run: `
      let n = 0;
      return new Proxy({}, {
        get: (t, k) => (k === "text" ? (n++ < 2 ? "ok" : 42) : undefined),
        ownKeys: () => ["text"],
        getOwnPropertyDescriptor: () => ({ value: n++ < 2 ? "ok" : 42, enumerable: true, configurable: true }),
      });`,
    check: (o) => {
      if (o.ok) expect(typeof (o.value as { text: unknown }).text).toBe("string");
      else expect(o.code).toBe("INVALID_OUTPUT");
    },
  },
  {
    name: "a thenable result is awaited inside the guest",
    run: `return { then(resolve) { resolve({ via: "thenable" }); } };`,
    check: returnsValue({ via: "thenable" }),
  },
  {
    name: "a thenable whose then throws is the tool's error",
    run: `return { then() { throw new Error("bad then"); } };`,
    check: failsWith("TOOL_ERROR", /bad then/),
  },
  {
    name: "Promise species and a poisoned Promise.prototype.then break only the guest",
    top: `class Evil extends Promise { static get [Symbol.species]() { return Evil; } }
          Promise.prototype.then = function () { return this; };`,
    run: `return Evil.resolve(1);`,
    timeoutMs: 500,
    check: (o) => {
      // await uses V8's internal then, so the result may still arrive; if not, the guest ends on a limit.
      if (o.ok) expect(o.value).toBe(1);
      else expect(["LIMIT_EXCEEDED", "TOOL_ERROR"]).toContain(o.code);
    },
  },
  {
    name: "nodejs.util.inspect.custom on outputs and errors is never called by the host",
    run: `
      const evil = { [Symbol.for("nodejs.util.inspect.custom")]: () => { throw new Error("inspected"); }, message: "plain" };
      if (input && input.throwIt) throw evil;
      return { a: 1, [Symbol.for("nodejs.util.inspect.custom")]: () => "x" };`,
    check: (o) => {
      expect(o).toEqual({ ok: true, value: { a: 1 } });
      if (o.ok) expect(Object.getOwnPropertySymbols(o.value as object)).toEqual([]);
    },
  },
  {
    name: "dynamic import() is refused",
    run: `
      const out = [];
      for (const spec of ["node:fs", "fs", "warden/sdk", "data:text/javascript,export default 1"]) {
        try { await import(spec); out.push("imported " + spec); } catch { out.push("refused"); }
      }
      return out;`,
    check: returnsValue(["refused", "refused", "refused", "refused"]),
  },
  {
    name: "a static import of a host module fails at load",
    top: `import fs from "node:fs";`,
    run: `return typeof fs;`,
    check: failsWith("LOAD_ERROR", /may import only warden\/sdk and zod/),
  },
  {
    // Their memory lives outside the V8 heap, where the isolate's memory limit does not reach. (2 ** 30:
    // QuickJS refuses a maxByteLength of 2 ** 32 outright, which would end the case before it checks.)
    name: "WebAssembly and in-place buffer growth are absent",
    run: `
      const rab = new ArrayBuffer(0, { maxByteLength: 2 ** 30 });
      const gsab = new SharedArrayBuffer(0, { maxByteLength: 2 ** 30 });
      return [typeof WebAssembly, typeof rab.resize, typeof gsab.grow, "resize" in ArrayBuffer.prototype];`,
    check: returnsValue(["undefined", "undefined", "undefined", false]),
  },
  {
    name: "a guest cannot fake a memory-limit kill",
    run: `throw new Error("Isolate was disposed during execution due to memory limit");`,
    check: failsWith("TOOL_ERROR", /memory limit/),
  },
  {
    name: "lone surrogates cannot inflate the output past its limit",
    run: `return "\\ud800".repeat(200_000);`,
    check: failsWith("LIMIT_EXCEEDED", /output limit of 1024 KiB/),
  },
  {
    name: "forged descriptors name nothing: a poisoned JSON.parse hands the guest made-up handles",
    top: `const realParse = JSON.parse;
          JSON.parse = (text, ...rest) => {
            const v = realParse(text, ...rest);
            if (text === "{}") { const forged = {}; for (let fd = 0; fd < 40; fd++) forged["h" + fd] = { fd, kind: "fs", rights: ["read"] }; return forged; }
            return v;
          };`,
    run: `
      const codes = new Set();
      for (const h of Object.values(caps)) {
        try { await h.readText("secret.txt"); codes.add("READ"); } catch (e) { codes.add(e.code); }
      }
      return [...codes];`,
    check: returnsValue(["CAPABILITY_DENIED"]),
  },
  {
    name: "handles are frozen and attenuation cannot widen rights or scope",
    capabilities: FILES,
    run: `
      const out = [];
      try { caps.files.readText = () => "mine"; out.push("mutated"); } catch (e) { out.push(e.name); }
      try { await caps.files.attenuate({ rights: ["read", "write"] }); out.push("widened"); } catch (e) { out.push(e.code); }
      try { await caps.files.attenuate({ path: ".." }); out.push("escaped"); } catch (e) { out.push(e.code); }
      const narrow = await caps.files.attenuate({ rights: ["list"] });
      try { await narrow.readText("secret.txt"); out.push("read"); } catch (e) { out.push(e.code); }
      return out;`,
    check: returnsValue(["TypeError", "CAPABILITY_DENIED", "CAPABILITY_DENIED", "CAPABILITY_DENIED"]),
  },
  {
    // Each derived handle is kept on the kernel's heap: 1,000 of these held about 190 MiB there.
    name: "attenuation keeps each right once, however often the request names it",
    capabilities: FILES,
    run: `
      const narrow = await caps.files.attenuate({ rights: new Array(10_000).fill("read").concat(["list", "read"]) });
      return narrow.rights;`,
    check: returnsValue(["read", "list"]),
  },
  {
    name: "a guest that skips its own output check is still checked by the host",
    top: `const out = z.object({ text: z.string() });
          out.safeParse = (data) => ({ success: true, data });`,
    output: "out",
    run: `return { text: 42 };`,
    check: failsWith("INVALID_OUTPUT", /does not match its output schema/),
  },
  {
    name: "a poisoned JSON.stringify yields a malformed result, not a host fault",
    run: `JSON.stringify = () => "{not json"; return { a: 1 };`,
    check: failsWith("TOOL_ERROR"),
  },
  {
    name: "a guest cannot claim a kernel error the kernel never raised",
    top: `import { WardenError } from "warden/sdk";`,
    run: `throw new WardenError("CAPABILITY_DENIED", "pretend denial");`,
    check: failsWith("TOOL_ERROR", /pretend denial/),
  },
  {
    name: "poisoned Object and Array prototypes affect only the guest",
    run: `Object.prototype.toJSON = function () { return "poisoned"; };
          Array.prototype.push = function () { throw new Error("no push"); };
          Object.defineProperty(Object.prototype, "ok", { get() { return true; }, configurable: true });
          return { a: 1 };`,
    check: (o) => {
      // The tool broke its own JSON encoding; the host must see a clean failure or plain data, nothing else.
      if (o.ok) expect(["poisoned", { a: 1 }]).toContainEqual(o.value);
      else expect(["TOOL_ERROR", "INVALID_OUTPUT"]).toContain(o.code);
    },
  },
];

describe.each(BACKENDS)("escape attempts on %s", (backend) => {
  let runtime: Runtime;
  let base: string;
  let root: string;
  let outside: string;

  beforeAll(() => {
    base = tempDir();
    root = join(base, "root");
    outside = join(base, "outside");
    for (const d of [root, outside]) mkdirSync(d);
    writeFileSync(join(root, "secret.txt"), "inside");
    writeFileSync(join(outside, "secret.txt"), "OUTSIDE");
    runtime = createRuntime({ cwd: base });
  });
  afterAll(() => runtime.close());

  test.each(CASES)("$name", async (c) => {
    const grants = c.grants ?? (c.capabilities ? { files: `fs:read,list:${root}` } : {});
    const file = writeTool(base, { ...c, name: undefined });
    let outcome: Outcome;
    try {
      const tool = await runtime.loadTool(file, {
        grants,
        backend,
        limits: { timeoutMs: c.timeoutMs ?? 3000, cpuMs: 1000 },
      });
      outcome = { ok: true, value: await tool.call({}) };
      await tool.dispose();
    } catch (error) {
      if (!(error instanceof WardenError)) throw error;
      outcome = { ok: false, code: error.code, message: error.message };
    }
    c.check(outcome, { root, outside });
    // Nothing outside was touched, and the host still serves a plain call.
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("OUTSIDE");
    const probe = await runtime.loadTool(writeTool(base, { run: "return 'alive';" }), { backend });
    expect(await probe.call({})).toBe("alive");
    await probe.dispose();
  });
});
