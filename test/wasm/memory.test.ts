// The memory bound of the wasm backend, at the binary level: LEB128, section rewriting, budgets, refusals,
// and a module that tries to grow past its limit (run here with Node's own WebAssembly, rewritten and not).
import { parse } from "@bytecodealliance/jco-transpile/wasm-tools";
import { describe, expect, test } from "vitest";
import { WardenError } from "../../runtime/errors.ts";
import { encodeU, Reader, sections } from "../../runtime/isolates/wasm/binary.ts";
import { capabilityTypesOf, componentImports } from "../../runtime/isolates/wasm/imports.ts";
import {
  boundModules,
  PAGE_BYTES,
  planMemories,
  rewriteModule,
  TABLE_CAP,
} from "../../runtime/isolates/wasm/memory.ts";

const GROWER = `(module
  (memory (export "memory") 2)
  (table (export "table") 1 funcref)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

// Node's WebAssembly, as far as these tests use it (its type declarations cover only part of the API).
declare const WebAssembly: {
  instantiate(bytes: Uint8Array): Promise<{ instance: { exports: unknown } }>;
};
interface Exports {
  grow: (pages: number) => number;
  memory: { grow(pages: number): number; readonly buffer: ArrayBuffer };
  table: { grow(elements: number): number };
}

async function instance(bytes: Uint8Array): Promise<Exports> {
  const { instance } = await WebAssembly.instantiate(bytes);
  return instance.exports as Exports;
}

function thrown(fn: () => unknown): WardenError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WardenError) return error;
    throw error;
  }
  throw new Error("expected a WardenError");
}

describe("LEB128", () => {
  test.each([0, 1, 127, 128, 300, 65536, 2 ** 32 - 1])("%i round-trips", (n) => {
    expect(new Reader(Uint8Array.from(encodeU(n))).u()).toBe(n);
  });

  test("signed values decode with their sign", () => {
    expect(new Reader(Uint8Array.of(0x7f)).s()).toBe(-1);
    expect(new Reader(Uint8Array.of(0x40)).s()).toBe(-64);
    expect(new Reader(Uint8Array.of(0x3f)).s()).toBe(63);
  });

  test("a number past the end or over 32 bits is a LOAD_ERROR, not a crash", () => {
    expect(thrown(() => new Reader(Uint8Array.of(0x80)).u()).code).toBe("LOAD_ERROR");
    expect(thrown(() => new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x7f)).u()).code).toBe("LOAD_ERROR");
  });
});

describe("bounding memories", () => {
  test("a module that grows past its limit is refused by memory.grow, inside the guest", async () => {
    const original = await parse(GROWER);
    const free = await instance(original);
    expect(free.grow(300)).toBe(2); // unbounded as written: 302 pages (~19 MiB) granted
    const { modules, maxima } = boundModules([original], 16);
    expect(maxima).toEqual([[256]]); // 16 MiB = 256 pages
    const bounded = await instance(modules[0]!);
    expect(bounded.grow(254)).toBe(2);
    expect(bounded.grow(1)).toBe(-1);
    expect(bounded.memory.buffer.byteLength).toBe(16 * 2 ** 20);
    expect(() => bounded.memory.grow(1)).toThrow(RangeError); // from JS too
  });

  test("a declared maximum above the budget is lowered; one below it is kept", async () => {
    const high = await parse(`(module (memory 1 5000))`);
    const low = await parse(`(module (memory 1 10))`);
    expect(boundModules([high], 8).maxima).toEqual([[128]]);
    expect(boundModules([low], 8).maxima).toEqual([[10]]);
  });

  test("memories of all modules share one budget; each keeps its initial size", () => {
    const plan = planMemories(
      [
        { module: 0, min: 100, max: undefined },
        { module: 1, min: 10, max: undefined },
        { module: 2, min: 0, max: 5 },
      ],
      256,
      16,
    );
    expect(plan).toEqual([148, 58, 5]);
    expect(plan.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(256);
  });

  test("initial sizes over the budget are refused before anything runs", async () => {
    const big = await parse(`(module (memory 300))`);
    const error = thrown(() => boundModules([big], 16));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toBe(
      "the component's linear memories start at 19 MiB, over its memory limit of 16 MiB (raise it with --memory-mb or memoryMb)",
    );
  });

  test.each([
    ["shared", `(module (memory 1 2 shared))`, /shared memory/],
    ["64-bit", `(module (memory i64 1))`, /64-bit memory/],
    ["imported shared", `(module (import "a" "m" (memory 1 2 shared)))`, /shared memory/],
  ])("a %s memory is refused", async (_name, wat, message) => {
    const bytes = await parse(wat);
    const refused = thrown(() => boundModules([bytes], 8));
    expect(refused.code).toBe("LOAD_ERROR");
    expect(refused.message).toMatch(message);
  });

  test("tables get a maximum too", async () => {
    const bytes = rewriteModule(await parse(GROWER), [64]);
    const { table } = await instance(bytes);
    expect(() => table.grow(TABLE_CAP)).toThrow(RangeError);
    expect(table.grow(10)).toBe(1);
  });

  test("other sections are copied unchanged", async () => {
    const original = await parse(GROWER);
    const rewritten = rewriteModule(original, [4]);
    const before = sections(original).filter((s) => s.id !== 5 && s.id !== 4);
    const after = sections(rewritten).filter((s) => s.id !== 5 && s.id !== 4);
    expect(after).toEqual(before);
    expect(PAGE_BYTES).toBe(65536);
  });
});

describe("component imports", () => {
  test("a core module is not a component", async () => {
    const error = thrown(() => componentImports(new Uint8Array(0)));
    expect(error.code).toBe("LOAD_ERROR");
    const core = await parse(GROWER);
    expect(thrown(() => componentImports(core)).message).toMatch(/core module, not a component/);
  });

  test("only Warden's interfaces, at Warden's version, are accepted", () => {
    expect([
      ...capabilityTypesOf([
        { name: "warden:tool/fs@0.1.0", kind: 5 },
        { name: "warden:tool/types@0.1.0", kind: 5 },
      ]),
    ]).toEqual(["fs"]);
    const wasi = thrown(() => capabilityTypesOf([{ name: "wasi:filesystem/preopens@0.2.3", kind: 5 }]));
    expect(wasi.message).toMatch(
      /^the component imports wasi:filesystem\/preopens@0.2.3 \(an interface\), which Warden does not provide/,
    );
    const old = thrown(() => capabilityTypesOf([{ name: "warden:tool/fs@0.0.9", kind: 5 }]));
    expect(old.message).toMatch(/provides warden:tool\/fs@0.1.0; rebuild it against tools-wasm\/wit/);
    const fn = thrown(() => capabilityTypesOf([{ name: "read-anything", kind: 1 }]));
    expect(fn.message).toMatch(/imports read-anything \(a function\)/);
  });
});

describe("imports of every kind are read past", () => {
  test("functions, tables, memories, globals and tags before a defined memory", async () => {
    const bytes = await parse(`(module
      (import "a" "f" (func (param i32)))
      (import "a" "t" (table 1 funcref))
      (import "a" "g" (global (mut i32)))
      (import "a" "e" (tag (param i32)))
      (memory 3))`);
    expect(boundModules([bytes], 8).maxima).toEqual([[128]]);
  });
});
