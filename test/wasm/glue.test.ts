// Defence in depth for the wasm backend: even JS glue that is hostile (jco generates it, but from an untrusted
// component) finds no way to allocate memory outside the heap limit and nothing of the host's in its context.
import { parse } from "@bytecodealliance/jco-transpile/wasm-tools";
import { beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS } from "../../runtime/isolates/types.ts";
import { wasmBackend } from "../../runtime/isolates/wasm/index.ts";

/** Each probe runs inside the glue's context and returns what it found; every one must find nothing. */
const PROBES: Array<{ name: string; code: string; expected: unknown }> = [
  { name: "WebAssembly.Memory", code: "typeof WebAssembly.Memory", expected: "undefined" },
  { name: "WebAssembly.Module", code: "typeof WebAssembly.Module", expected: "undefined" },
  { name: "WebAssembly.Instance", code: "typeof WebAssembly.Instance", expected: "undefined" },
  { name: "WebAssembly.Table", code: "typeof WebAssembly.Table", expected: "undefined" },
  { name: "WebAssembly.compile", code: "typeof WebAssembly.compile", expected: "undefined" },
  { name: "WebAssembly.instantiate", code: "typeof WebAssembly.instantiate", expected: "undefined" },
  { name: "a memory's constructor", code: "mem.constructor === Object", expected: true },
  {
    name: "a new memory through a memory's prototype",
    code: "(() => { try { return new (Object.getPrototypeOf(mem).constructor)({ initial: 65536 }) instanceof ArrayBuffer; } catch (e) { return e.name; } })()",
    expected: false,
  },
  {
    name: "growing a memory past its bound",
    code: "(() => { try { mem.grow(65536); return 'grew'; } catch (e) { return e.name; } })()",
    expected: "RangeError",
  },
  { name: "an instance's constructor", code: "inst.constructor === Object", expected: true },
  {
    name: "instantiating a module of its own",
    code: "(() => { try { instantiateCore({}, {}); return 'instantiated'; } catch (e) { return e.message; } })()",
    expected: "only the component's own modules can be instantiated",
  },
  {
    name: "ArrayBuffer.prototype.resize",
    code: "typeof ArrayBuffer.prototype.resize",
    expected: "undefined",
  },
  {
    name: "SharedArrayBuffer.prototype.grow",
    code: "typeof SharedArrayBuffer === 'function' ? typeof SharedArrayBuffer.prototype.grow : 'undefined'",
    expected: "undefined",
  },
  { name: "the host's callback", code: "typeof globalThis.__wardenHost", expected: "undefined" },
  { name: "the module bytes", code: "typeof globalThis.__wardenModules", expected: "undefined" },
  {
    name: "replacing the runner",
    code: "(() => { try { globalThis.__wardenRunner = null; } catch {} return globalThis.__wardenRunner !== null; })()",
    expected: true,
  },
  {
    name: "instantiating the component again",
    code: "(() => { try { globalThis.__wardenRunner.start(() => ({})); return 'again'; } catch (e) { return e.message; } })()",
    expected: "the component is already instantiated",
  },
  {
    // The glue's clock is the guest runtime's (sdk/guest/globals/clock.ts): it stands still while it computes.
    name: "a clock that advances while the glue computes",
    code: "(() => { try { const d0 = Date.now(), p0 = performance.now(); let x = 0; for (let i = 0; i < 2e7; i++) x += Math.sqrt(i); return [Date.now() - d0, performance.now() - p0, new Date().getTime() - d0, x > 0]; } catch (e) { return e.name; } })()",
    expected: [0, 0, 0, true],
  },
  { name: "process", code: "typeof process", expected: "undefined" },
  { name: "require", code: "typeof require", expected: "undefined" },
  { name: "fetch", code: "typeof fetch", expected: "undefined" },
];

function hostileGlue(): string {
  const probes = PROBES.map((p) => `${JSON.stringify(p.name)}: ${p.code}`).join(",\n");
  return `export function instantiate(getCoreModule, imports, instantiateCore) {
  const inst = instantiateCore(getCoreModule("tool.core.wasm"), {});
  const mem = inst.exports.memory;
  const found = {
${probes}
  };
  const tool = {
    describe: () => JSON.stringify({ name: "hostile", description: "probes", inputSchema: {}, outputSchema: {},
      capabilities: {}, found }),
    run: () => "{}",
  };
  return { "warden:tool/tool@0.1.0": tool };
}`;
}

let found: Record<string, unknown>;

beforeAll(async () => {
  const core = await parse(`(module (memory (export "memory") 1))`);
  const source = JSON.stringify({
    format: "warden-component/1",
    types: [],
    glue: hostileGlue(),
    modules: [["tool.core.wasm", Buffer.from(core).toString("base64")]],
  });
  const sandbox = await wasmBackend.create({
    limits: { ...DEFAULT_LIMITS, memoryMb: 16 },
    hostCall: async () => JSON.stringify({ ok: false, error: { code: "CAPABILITY_DENIED", message: "no" } }),
  });
  try {
    found = ((await sandbox.load({ source, filename: "hostile.wasm" })) as { found: Record<string, unknown> })
      .found;
  } finally {
    await sandbox.dispose();
  }
});

describe("what hostile glue finds in its context", () => {
  test.each(PROBES)("$name: nothing", ({ name, expected }) => {
    expect(found[name]).toEqual(expected);
  });
});
