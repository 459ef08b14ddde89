// The QuickJS engine image: one compiled WebAssembly module, and a memory image of a runtime whose two
// contexts already ran the guest runtime, from which every sandbox starts in its own WebAssembly instance.
import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
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
import { PACKAGE_ROOT } from "../../own-files.ts";
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

/** What an image file's header holds; the chunks' bytes follow it. */
interface ImageLayout {
  /** What the image was built from (the WebAssembly module and the guest runtime); any change voids it. */
  key: string;
  pages: number;
  /** Offsets of chunks that hold data, in the order their bytes are stored. */
  filled: number[];
  /** Offsets of chunks a fresh instance fills but the image has empty: they must be cleared. */
  cleared: number[];
  runtime: number;
  contexts: [number, number];
}

interface Image extends ImageLayout {
  compiled: WasmModule;
  /** The filled chunks' bytes, back to back. */
  data: Uint8Array;
}

/** Where `npm run build` leaves the image, so a process starts sandboxes without evaluating the guest runtime. */
const IMAGE_FILE = join(PACKAGE_ROOT, "dist", "quickjs-image.bin");

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
 * Builds the image: evaluating the guest runtime (zod included) takes QuickJS most of a second, copying
 * its result into a new instance a few milliseconds. Each context runs setupContext as V8's do.
 */
async function buildImage(compiled: WasmModule, key: string): Promise<Image> {
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
  const bytes = new Uint8Array(template.buffer);
  const fresh = new Uint8Array(pristine.buffer);
  const filled: number[] = [];
  const cleared: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    if (chunkFilled(bytes, offset)) filled.push(offset);
    else if (offset < fresh.length && chunkFilled(fresh, offset)) cleared.push(offset);
  }
  const data = new Uint8Array(filled.length * CHUNK);
  filled.forEach((offset, i) => {
    data.set(bytes.subarray(offset, offset + CHUNK), i * CHUNK);
  });
  return {
    key,
    compiled,
    pages: bytes.length / PAGE,
    filled,
    cleared,
    data,
    runtime: (runtime as unknown as Pointed<"rt">).rt.value,
    contexts: [
      (contexts[0] as unknown as Pointed<"ctx">).ctx.value,
      (contexts[1] as unknown as Pointed<"ctx">).ctx.value,
    ],
  };
}

/** The image file's content: a 4-byte length, the layout as JSON, then the chunks. */
function encodeImage(img: Image): Uint8Array {
  const layout: ImageLayout = {
    key: img.key,
    pages: img.pages,
    filled: img.filled,
    cleared: img.cleared,
    runtime: img.runtime,
    contexts: img.contexts,
  };
  const header = Buffer.from(JSON.stringify(layout), "utf8");
  const out = Buffer.alloc(4 + header.length + img.data.length);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  out.set(img.data, 4 + header.length);
  return out;
}

/** The image in the file, if there is one and it was built from exactly this module and guest runtime. */
function readImageFile(compiled: WasmModule, key: string): Image | undefined {
  let file: Buffer;
  try {
    file = readFileSync(IMAGE_FILE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const length = file.length >= 4 ? file.readUInt32LE(0) : 0;
  let layout: ImageLayout;
  try {
    layout = JSON.parse(file.subarray(4, 4 + length).toString("utf8")) as ImageLayout;
  } catch {
    return undefined; // A torn or foreign file: built again in memory, as if absent.
  }
  const data = file.subarray(4 + length);
  if (layout.key !== key || data.length !== layout.filled.length * CHUNK) return undefined;
  return { ...layout, compiled, data: new Uint8Array(data) };
}

/** The compiled module, and the key of the image it and the current guest runtime make. */
function compileEngine(): { compiled: WasmModule; key: string } {
  const bytes = readFileSync(wasmPath());
  const key = createHash("sha256").update(bytes).update("\0").update(preludeSource()).digest("hex");
  return { compiled: new wasm.Module(bytes) as WasmModule, key };
}

async function loadImage(): Promise<Image> {
  const { compiled, key } = compileEngine();
  return readImageFile(compiled, key) ?? (await buildImage(compiled, key));
}

function theImage(): Promise<Image> {
  image ??= loadImage();
  return image;
}

/** Builds the image and writes it where sandboxes look first (run by `npm run build`). */
export async function writeImageFile(): Promise<number> {
  const { compiled, key } = compileEngine();
  const encoded = encodeImage(await buildImage(compiled, key));
  // Written aside and renamed, so a process starting meanwhile reads the old file or the new, never half.
  const temporary = `${IMAGE_FILE}.${process.pid}.tmp`;
  writeFileSync(temporary, encoded);
  renameSync(temporary, IMAGE_FILE);
  return encoded.length;
}

/** Bytes of memory an idle sandbox holds at least (the image's filled chunks). */
export async function imageUsedBytes(): Promise<number> {
  return (await theImage()).data.length;
}

/**
 * A new engine started from the image, in its own instance whose memory may not grow past `memoryMb` (the
 * image counts; the module's memory starts at 16 MiB, so that is the floor of this cap).
 */
export async function startEngine(memoryMb: number): Promise<Engine> {
  const img = await theImage();
  const memory = new CappedMemory(img.pages, Math.ceil((memoryMb * 1024 * 1024) / PAGE));
  const module = await instantiate(img.compiled, memory);
  const target = new Uint8Array(memory.buffer);
  img.filled.forEach((offset, i) => {
    target.set(img.data.subarray(i * CHUNK, (i + 1) * CHUNK), offset);
  });
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
