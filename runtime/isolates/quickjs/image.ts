// The QuickJS engine image: one compiled WebAssembly module, and a memory image of a runtime whose two
// contexts already ran the guest runtime, from which every sandbox starts in its own WebAssembly instance.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  type ContextOptions,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSRuntime,
  type QuickJSWASMModule,
  RELEASE_SYNC,
} from "quickjs-emscripten";
import { WardenError } from "../../errors.ts";
import { preludeSource } from "../prelude.ts";

// Host code is type-checked without DOM or WebAssembly declarations; these are the parts used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
type WasmModule = NonNullable<Parameters<typeof newVariant>[1]["wasmModule"]>;
type WasmMemoryOption = NonNullable<Parameters<typeof newVariant>[1]["wasmMemory"]>;
/** Pointers quickjs-emscripten keeps in protected fields; read once, to find the runtime in the image. */
type Pointed<K extends string> = { [key in K]: { value: number } };

const PAGE = 65_536;
/** The module's memory import allows at most 2 GiB (emscripten's own ceiling). */
const MAX_PAGES = 32_768;
/** Granularity of the image: only chunks that hold something are copied, so untouched pages stay free. */
const CHUNK = 4096;

/**
 * A linear memory that refuses to grow past its cap and remembers that it did. The emscripten glue grows
 * memory only through `grow`, so the refusal reaches the guest as QuickJS's own out-of-memory error, and
 * `refused` tells the host (which the guest cannot forge) that the sandbox hit its memory limit.
 */
export class CappedMemory extends wasm.Memory {
  readonly capPages: number;
  refused = 0;
  constructor(initialPages: number, capPages: number) {
    super({ initial: initialPages, maximum: MAX_PAGES });
    this.capPages = Math.max(initialPages, Math.min(capPages, MAX_PAGES));
  }
  override grow(delta: number): number {
    if (this.buffer.byteLength / PAGE + delta > this.capPages) {
      this.refused++;
      throw new RangeError("the sandbox's memory limit");
    }
    return super.grow(delta);
  }
}

/** A fresh sandbox's engine: its own instance and memory, a runtime, and the tool's and checker's contexts. */
export interface Engine {
  memory: CappedMemory;
  runtime: QuickJSRuntime;
  tool: QuickJSContext;
  checker: QuickJSContext;
}

interface Image {
  compiled: WasmModule;
  pages: number;
  bytes: Uint8Array;
  /** Offsets of chunks that hold data in the image. */
  filled: number[];
  /** Offsets of chunks a fresh instance fills but the image has empty: they must be cleared. */
  cleared: number[];
  runtime: number;
  contexts: [number, number];
  /** Bytes of the image that hold data: what each idle sandbox's memory costs at least. */
  usedBytes: number;
}

let image: Promise<Image> | undefined;

async function instantiate(compiled: WasmModule, memory: CappedMemory): Promise<QuickJSWASMModule> {
  return newQuickJSWASMModuleFromVariant(
    newVariant(RELEASE_SYNC, { wasmModule: compiled, wasmMemory: memory as unknown as WasmMemoryOption }),
  );
}

function chunkFilled(bytes: Uint8Array, offset: number): boolean {
  const end = Math.min(offset + CHUNK, bytes.length);
  for (let i = offset; i < end; i++) if (bytes[i] !== 0) return true;
  return false;
}

function wasmPath(): string {
  // The variant is a dependency of quickjs-emscripten, so it is resolved from there.
  const fromPackage = createRequire(createRequire(import.meta.url).resolve("quickjs-emscripten"));
  return fromPackage.resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
}

/**
 * Builds the image once per process: evaluating the guest runtime (zod included) takes QuickJS hundreds of
 * milliseconds, copying its result into a new instance a few. Each context runs setupContext as V8's do.
 */
async function buildImage(): Promise<Image> {
  const compiled = new wasm.Module(readFileSync(wasmPath())) as WasmModule;
  const pristine = new CappedMemory(256, MAX_PAGES);
  await instantiate(compiled, pristine);
  const template = new CappedMemory(256, MAX_PAGES);
  const module = await instantiate(compiled, template);
  const runtime = module.newRuntime();
  const contexts = [runtime.newContext(), runtime.newContext()] as const;
  for (const context of contexts) {
    for (const [code, filename] of [
      [preludeSource(), "warden:prelude"],
      ["__warden.setupContext();", "warden:setup"],
    ] as const) {
      const result = context.evalCode(code, filename, { type: "global" });
      if (result.error) {
        const message = String(context.dump(result.error));
        result.error.dispose();
        throw new WardenError("INTERNAL", `the guest runtime did not start in QuickJS: ${message}`);
      }
      result.value.dispose();
    }
  }
  // Nothing of the template is disposed: its instance is dropped whole, and its memory is the image.
  const bytes = new Uint8Array(template.buffer).slice();
  const fresh = new Uint8Array(pristine.buffer);
  const filled: number[] = [];
  const cleared: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    if (chunkFilled(bytes, offset)) filled.push(offset);
    else if (offset < fresh.length && chunkFilled(fresh, offset)) cleared.push(offset);
  }
  return {
    compiled,
    pages: bytes.length / PAGE,
    bytes,
    filled,
    cleared,
    runtime: (runtime as unknown as Pointed<"rt">).rt.value,
    contexts: [
      (contexts[0] as unknown as Pointed<"ctx">).ctx.value,
      (contexts[1] as unknown as Pointed<"ctx">).ctx.value,
    ],
    usedBytes: filled.length * CHUNK,
  };
}

function loadImage(): Promise<Image> {
  image ??= buildImage();
  return image;
}

/** Bytes of memory an idle sandbox holds at least (the image's filled chunks). */
export async function imageUsedBytes(): Promise<number> {
  return (await loadImage()).usedBytes;
}

/**
 * A new engine started from the image, in its own instance whose memory may not grow past `memoryMb` (the
 * image counts; the module's memory starts at 16 MiB, so that is the floor of this cap).
 */
export async function startEngine(memoryMb: number): Promise<Engine> {
  const img = await loadImage();
  const memory = new CappedMemory(img.pages, Math.ceil((memoryMb * 1024 * 1024) / PAGE));
  const module = await instantiate(img.compiled, memory);
  const target = new Uint8Array(memory.buffer);
  for (const offset of img.filled) target.set(img.bytes.subarray(offset, offset + CHUNK), offset);
  for (const offset of img.cleared) target.fill(0, offset, offset + CHUNK);
  // quickjs-emscripten wraps only runtimes it created; for one that already lives in memory, its
  // constructor is reached through newRuntime with the pointer the image holds.
  const ffi = module.getFFI() as { QTS_NewRuntime: () => number };
  const create = ffi.QTS_NewRuntime;
  ffi.QTS_NewRuntime = () => img.runtime;
  let runtime: QuickJSRuntime;
  try {
    runtime = module.newRuntime();
  } finally {
    ffi.QTS_NewRuntime = create;
  }
  const [tool, checker] = img.contexts.map((pointer) =>
    runtime.newContext({ contextPointer: pointer as NonNullable<ContextOptions["contextPointer"]> }),
  ) as [QuickJSContext, QuickJSContext];
  return { memory, runtime, tool, checker };
}
