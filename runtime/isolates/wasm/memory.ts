// Bounds a component's linear memories and tables by rewriting its core modules before they are compiled.
// Why: V8 allocates WebAssembly memory outside the heap, where an isolate's memory limit does not reach
// it. A memory whose declared maximum fits the tool's budget cannot grow past it: `memory.grow` fails
// inside the guest (returns -1), which is the guest's problem, not the host's.
import { WardenError } from "../../errors.ts";
import { assemble, encodeU, malformed, Reader, type Section, sections } from "./binary.ts";

export const PAGE_BYTES = 65536;
/** Most elements a defined table may grow to (beyond its initial size, if that is larger). */
export const TABLE_CAP = 65536;

const SECTION = { import: 2, table: 4, memory: 5 } as const;

interface Limits {
  flags: number;
  min: number;
  max: number | undefined;
}

function readLimits(r: Reader, what: "memory" | "table"): Limits {
  const flags = r.byte();
  // 0x00: min; 0x01: min and max. Anything else is shared (0x02), 64-bit (0x04) or a custom page size (0x08).
  if (flags > 1) {
    throw new WardenError(
      "LOAD_ERROR",
      `the component declares a ${flags & 2 ? "shared " : ""}${flags & 4 ? "64-bit " : ""}${what}${flags & 8 ? " with a custom page size" : ""}; Warden runs only unshared 32-bit ${what === "memory" ? "memories" : "tables"}, whose size it can bound`,
    );
  }
  const min = r.u();
  return { flags, min, max: flags === 1 ? r.u() : undefined };
}

function encodeLimits(min: number, max: number): number[] {
  return [0x01, ...encodeU(min), ...encodeU(max)];
}

/** A defined memory of one core module, as declared. */
export interface DeclaredMemory {
  module: number;
  min: number;
  max: number | undefined;
}

/** The memories each module defines (imported ones are someone else's), and refuses what cannot be bounded. */
export function declaredMemories(modules: Uint8Array[]): DeclaredMemory[] {
  const out: DeclaredMemory[] = [];
  modules.forEach((bytes, module) => {
    for (const s of sections(bytes)) {
      if (s.id === SECTION.import) checkImports(s.body);
      if (s.id !== SECTION.memory) continue;
      const r = new Reader(s.body);
      for (let n = r.u(); n > 0; n--) {
        const { min, max } = readLimits(r, "memory");
        out.push({ module, min, max });
      }
    }
  });
  return out;
}

/** Imported memories and tables are defined elsewhere in the component, but a shared or 64-bit one is still refused. */
function checkImports(body: Uint8Array): void {
  const r = new Reader(body);
  for (let n = r.u(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0x00) r.u();
    else if (kind === 0x01) {
      skipValueType(r);
      readLimits(r, "table");
    } else if (kind === 0x02) readLimits(r, "memory");
    else if (kind === 0x03) {
      skipValueType(r);
      r.byte(); // mutability
    } else if (kind === 0x04) {
      r.byte(); // tag attribute
      r.u();
    } else throw malformed(`unknown import kind ${kind}`);
  }
}

/** A value or reference type: one byte, or (ref null? heaptype) with its heap type after it. */
function skipValueType(r: Reader): void {
  const type = r.byte();
  if (type === 0x63 || type === 0x64) r.s();
}

/**
 * Gives each defined memory a maximum so that all of them together fit `budgetPages`: each keeps its
 * initial size and gets an equal share of what is left (less, if it declared less). Throws LIMIT_EXCEEDED
 * when the initial sizes alone do not fit.
 */
export function planMemories(memories: DeclaredMemory[], budgetPages: number, memoryMb: number): number[] {
  const initial = memories.reduce((n, m) => n + m.min, 0);
  if (initial > budgetPages) {
    throw new WardenError(
      "LIMIT_EXCEEDED",
      `the component's linear memories start at ${Math.ceil((initial * PAGE_BYTES) / 2 ** 20)} MiB, over its memory limit of ${memoryMb} MiB (raise it with --memory-mb or memoryMb)`,
    );
  }
  const share = memories.length ? Math.floor((budgetPages - initial) / memories.length) : 0;
  return memories.map((m) => Math.min(m.max ?? 65536, m.min + share, 65536));
}

/** Rewrites one module's memory and table sections; `maxima` are the new maxima of its memories, in order. */
export function rewriteModule(bytes: Uint8Array, maxima: number[]): Uint8Array {
  const parts: Section[] = sections(bytes).map((s) => {
    if (s.id === SECTION.memory) return { id: s.id, body: rewriteMemories(s.body, maxima) };
    if (s.id === SECTION.table) return { id: s.id, body: rewriteTables(s.body) };
    return s;
  });
  return assemble(bytes, parts);
}

function rewriteMemories(body: Uint8Array, maxima: number[]): Uint8Array {
  const r = new Reader(body);
  const n = r.u();
  if (n !== maxima.length) throw new WardenError("INTERNAL", "memory plan does not match the module");
  const out = encodeU(n);
  for (let i = 0; i < n; i++) {
    const { min } = readLimits(r, "memory");
    out.push(...encodeLimits(min, maxima[i]!));
  }
  return Uint8Array.from(out);
}

function rewriteTables(body: Uint8Array): Uint8Array {
  const r = new Reader(body);
  const n = r.u();
  const out = encodeU(n);
  for (let i = 0; i < n; i++) {
    const start = r.offset;
    const refType = r.byte();
    // 0x40 0x00 starts a table with an initializer expression (function references); not needed by components.
    if (refType === 0x40)
      throw new WardenError("LOAD_ERROR", "tables with initializer expressions are not supported");
    if (refType === 0x63 || refType === 0x64) r.s(); // (ref null? heaptype)
    const type = body.subarray(start, r.offset);
    const { min, max } = readLimits(r, "table");
    const cap = Math.max(min, TABLE_CAP);
    out.push(...type, ...encodeLimits(min, max === undefined ? cap : Math.min(max, cap)));
  }
  return Uint8Array.from(out);
}

/**
 * Bounds every module of a component together: the component's memories may hold at most `memoryMb` MiB
 * in total. Returns the rewritten modules and, per module, the maxima (in pages) of the memories it defines.
 */
export function boundModules(
  modules: Uint8Array[],
  memoryMb: number,
): { modules: Uint8Array[]; maxima: number[][] } {
  const memories = declaredMemories(modules);
  const planned = planMemories(memories, memoryMb * (2 ** 20 / PAGE_BYTES), memoryMb);
  const maxima = modules.map((_, index) => planned.filter((_, i) => memories[i]!.module === index));
  return { modules: modules.map((bytes, index) => rewriteModule(bytes, maxima[index]!)), maxima };
}
