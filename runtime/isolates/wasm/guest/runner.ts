// Runs inside a wasm-backend sandbox (an isolate): compiles the component's bounded core modules, hides what
// could allocate outside the heap, gives the jco glue Warden's capability imports, and calls the component.
// Bundled into dist/wasm-runner.js (scripts/build-prelude.ts) with the codec it imports; everything else it
// needs comes in through globals it deletes at once. Guest code: checked with sdk/guest/tsconfig.json.
import { ATTENUATE_OP, type Reply } from "../../../protocol/codec.ts";
import { utf8Decode, utf8Encode, utf8EncodeInto } from "../../../protocol/utf8.ts";

interface HostRef {
  applySyncPromise(receiver: undefined, args: unknown[], options: object): unknown;
}
type Result = { tag: "ok"; val: unknown } | { tag: "err"; val: { code: string; message: string } };
interface HandleInfo {
  fd: number;
  kind: string;
}
interface ToolExports {
  describe(): string;
  run(input: string): string;
}
type CoreImports = Record<string, Record<string, unknown>>;
type Instantiate = (
  getCoreModule: (name: string) => WasmModule,
  imports: CoreImports,
  instantiateCore: (module: WasmModule, imports?: CoreImports) => WasmInstance,
) => Record<string, unknown>;

// The part of WebAssembly this file uses (the host's type declarations cover only part of it). Stripped with
// the other types, so the code below uses the sandbox's real WebAssembly.
type WasmModule = object;
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmMemory {
  grow(pages: number): number;
}
type Class<T extends object> = { new (...args: never[]): T; readonly prototype: T };
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports?: CoreImports) => WasmInstance;
  Memory: Class<WasmMemory>;
  Table: Class<object>;
  Global: Class<object>;
  RuntimeError: Class<Error>;
  CompileError: Class<Error>;
  LinkError: Class<Error>;
};

const scope = globalThis as Record<string, unknown>;
const host = scope.__wardenHost as HostRef;
/** Per module, the maximum (in pages) the host gave the one memory it defines, if it defines exactly one. */
const maxima = scope.__wardenMaxima as Record<string, number>;
const delivered = {
  bytes: scope.__wardenModules as ArrayBuffer,
  index: scope.__wardenIndex as Record<string, [number, number]>,
};
delete scope.__wardenHost;
delete scope.__wardenModules;
delete scope.__wardenIndex;
delete scope.__wardenMaxima;

// Compiled here, before any glue runs; afterwards only these modules can be instantiated.
const RealInstance = WebAssembly.Instance;
const RealMemory = WebAssembly.Memory;
const RealRangeError = RangeError;
/**
 * `bytes` holds every module; `index` says where each is ([offset, length] by the name the glue asks for).
 * Nothing keeps the bytes once compiled (V8 keeps its own copy), so they stop counting against the heap.
 */
function compile(bytes: ArrayBuffer, index: Record<string, [number, number]>): Map<string, WasmModule> {
  const out = new Map<string, WasmModule>();
  for (const [name, [offset, length]] of Object.entries(index)) {
    out.set(name, new WebAssembly.Module(new Uint8Array(bytes, offset, length)));
  }
  return out;
}
const compiled = compile(delivered.bytes, delivered.index);
delivered.bytes = new ArrayBuffer(0);

/** The glue writes strings straight into guest memory with `encodeInto`, which the guest runtime's TextEncoder lacks. */
class Utf8Encoder {
  readonly encoding = "utf-8";
  encode(text = ""): Uint8Array {
    return utf8Encode(text);
  }
  encodeInto(text: string, into: Uint8Array): { read: number; written: number } {
    return utf8EncodeInto(text, into);
  }
}

/** The glue reads every string the component returns with TextDecoder. */
class Utf8Decoder {
  readonly encoding = "utf-8";
  decode(input?: Uint8Array | ArrayBuffer): string {
    if (input === undefined) return "";
    return utf8Decode(input instanceof Uint8Array ? input : new Uint8Array(input));
  }
}

/**
 * What could allocate memory outside the isolate's heap is removed: every WebAssembly constructor (also
 * as the `constructor` of the memories and tables the glue handles) and in-place buffer growth. What is
 * left is what the glue needs: error types and globals.
 */
function lockDown(): void {
  for (const Wasm of [WebAssembly.Memory, WebAssembly.Table, WebAssembly.Module, WebAssembly.Instance]) {
    Reflect.deleteProperty(Wasm.prototype, "constructor");
  }
  scope.WebAssembly = Object.freeze({
    RuntimeError: WebAssembly.RuntimeError,
    CompileError: WebAssembly.CompileError,
    LinkError: WebAssembly.LinkError,
    Global: WebAssembly.Global,
  });
  delete (ArrayBuffer.prototype as unknown as Record<string, unknown>).resize;
  if (typeof SharedArrayBuffer === "function") {
    delete (SharedArrayBuffer.prototype as unknown as Record<string, unknown>).grow;
  }
  scope.TextEncoder = Utf8Encoder;
  scope.TextDecoder = Utf8Decoder;
  // The glue logs on some error paths; there is nowhere for it to go.
  const quiet = () => undefined;
  scope.console = Object.freeze({ log: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet });
}
lockDown();

/** The descriptors of the current run's handles, by capability name; empty outside a run. */
let handles: Record<string, HandleInfo> = {};

function call(fd: number, op: string, args: unknown): Result {
  const reply = host.applySyncPromise(undefined, [fd, op, args], { arguments: { copy: true } }) as Reply;
  return reply.ok ? { tag: "ok", val: reply.value } : { tag: "err", val: reply.error };
}

function mapped(result: Result, map: (value: unknown) => unknown): Result {
  return result.tag === "ok" ? { tag: "ok", val: map(result.val) } : result;
}

const unit = (result: Result): Result => mapped(result, () => undefined);

const fds = new WeakMap<object, number>();

function fdOf(handle: object): number {
  const fd = fds.get(handle);
  // A resource the glue made up without us cannot name a descriptor; -1 is one the kernel never issued.
  return fd ?? -1;
}

/** A resource of the glue's class for its interface (the glue checks `instanceof`), naming descriptor `fd`. */
function wrap(Class: new () => object, fd: number): object {
  const handle = new Class();
  fds.set(handle, fd);
  return handle;
}

/** A resource class for one capability kind: `granted(name)`, `attenuate(...)`, and the kind's methods. */
function resourceClass(kind: string, attenuation: (...args: unknown[]) => Record<string, unknown>) {
  class Handle {
    static granted(name: string): Result {
      const info = Object.hasOwn(handles, name) ? handles[name] : undefined;
      if (!info || info.kind !== kind) {
        return {
          tag: "err",
          val: { code: "TOOL_ERROR", message: `the tool holds no ${kind} handle named "${name}"` },
        };
      }
      // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass the glue called (Dir, Store, ...); its instanceof checks need it.
      return { tag: "ok", val: wrap(this, info.fd) };
    }
    attenuate(...args: unknown[]): Result {
      const request: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(attenuation(...args)))
        if (value !== undefined) request[key] = value;
      const Class = this.constructor as new () => object;
      return mapped(call(fdOf(this), ATTENUATE_OP, request), (child) =>
        wrap(Class, (child as { fd: number }).fd),
      );
    }
    protected op(op: string, args?: unknown): Result {
      return call(fdOf(this), op, args ?? {});
    }
  }
  return Handle;
}

const FsBase = resourceClass("fs", (rights, path) => ({ rights, path }));
class Dir extends FsBase {
  readText(path: string) {
    return this.op("readText", { path });
  }
  readBytes(path: string) {
    return this.op("readBytes", { path });
  }
  writeText(path: string, text: string, append: boolean) {
    return unit(this.op("writeText", { path, text, append }));
  }
  writeBytes(path: string, bytes: Uint8Array, append: boolean) {
    return unit(this.op("writeBytes", { path, bytes, append }));
  }
  list(path: string) {
    return this.op("list", { path });
  }
  stat(path: string) {
    return mapped(this.op("stat", { path }), (s) => {
      const { type, size, mtimeMs } = s as { type: string; size: number; mtimeMs: number };
      return { type, size: BigInt(size), mtimeMs };
    });
  }
  mkdir(path: string, recursive: boolean) {
    return unit(this.op("mkdir", { path, recursive }));
  }
  remove(path: string, recursive: boolean) {
    return unit(this.op("remove", { path, recursive }));
  }
  rename(from: string, to: string) {
    return unit(this.op("rename", { from, to }));
  }
}

const NetBase = resourceClass("net", (rights, origins) => ({ rights, origins }));
class Client extends NetBase {
  fetch(req: { url: string; method: string; headers: Array<[string, string]>; body?: Uint8Array }) {
    // fromEntries defines own properties: a header named "__proto__" stays a header.
    const headers = Object.fromEntries(req.headers) as Record<string, string>;
    return mapped(this.op("fetch", { url: req.url, method: req.method, headers, body: req.body }), (r) => {
      const res = r as {
        status: number;
        statusText: string;
        url: string;
        headers: Record<string, string>;
        body: Uint8Array;
      };
      return {
        status: res.status,
        statusText: res.statusText,
        url: res.url,
        headers: Object.entries(res.headers),
        body: res.body,
      };
    });
  }
}

const KvBase = resourceClass("kv", (rights, prefix) => ({ rights, prefix }));
class Store extends KvBase {
  get(key: string) {
    return mapped(this.op("get", { key }), (value) => (value === null ? undefined : JSON.stringify(value)));
  }
  set(key: string, valueJson: string) {
    let value: unknown;
    try {
      value = JSON.parse(valueJson);
    } catch {
      return {
        tag: "err",
        val: { code: "INVALID_ARGUMENT", message: "kv values are JSON text; this is not JSON" },
      };
    }
    return unit(this.op("set", { key, value }));
  }
  delete(key: string) {
    return this.op("delete", { key });
  }
  list(prefix: string, limit: number) {
    return this.op("list", { prefix, limit });
  }
}

const ClockBase = resourceClass("clock", (rights, resolutionMs) => ({ rights, resolutionMs }));
class Timer extends ClockBase {
  now() {
    return this.op("now");
  }
  sleep(ms: number) {
    return unit(this.op("sleep", { ms }));
  }
}

const LogBase = resourceClass("log", (maxBytes) => ({ maxBytes }));
class Logger extends LogBase {
  write(level: string, message: string) {
    return unit(this.op("write", { level, message }));
  }
}

interface Narrowing {
  models?: string[];
  maxTokensPerCall?: number;
  totalTokens?: bigint;
  totalCost?: number;
  requestsPerMinute?: number;
  params?: string[];
}
const ModelBase = resourceClass("model", (rights, narrowing) => {
  const { totalTokens, ...rest } = (narrowing ?? {}) as Narrowing;
  // A u64 arrives as a BigInt; the kernel's schema bounds it (past 2^53 it is no longer exact, and is refused).
  return { rights, ...rest, totalTokens: totalTokens === undefined ? undefined : Number(totalTokens) };
});
class Model extends ModelBase {
  complete(requestJson: string) {
    let request: unknown;
    try {
      request = JSON.parse(requestJson);
    } catch {
      return {
        tag: "err",
        val: { code: "INVALID_ARGUMENT", message: "a model request is JSON text; this is not JSON" },
      };
    }
    return mapped(this.op("complete", request), (completion) => JSON.stringify(completion));
  }
}

/** The glue keys imports by interface name without its version; the host checked the versions already. */
const IMPORTS: Record<string, Record<string, unknown>> = {
  "warden:tool/fs": { Dir },
  "warden:tool/net": { Client },
  "warden:tool/kv": { Store },
  "warden:tool/clock": { Timer },
  "warden:tool/log": { Logger },
  "warden:tool/model": { Model },
  "warden:tool/types": {},
};

let tool: ToolExports | undefined;
let started = false;
/** The memories a module defined, with the maximum the host gave each, to tell a trap at the limit from others. */
const memories: Array<{ memory: WasmMemory; maxPages: number }> = [];

function start(instantiate: Instantiate): void {
  // Once: the glue sees this function too, and must not swap the component the host loaded for another.
  if (started) throw new Error("the component is already instantiated");
  started = true;
  const names = new Map([...compiled].map(([name, module]) => [module, name]));
  const exports = instantiate(
    (name) => {
      const module = compiled.get(name);
      if (!module) throw new Error(`no core module named ${name}`);
      return module;
    },
    IMPORTS,
    (module, imports) => {
      const name = names.get(module);
      if (name === undefined) throw new Error("only the component's own modules can be instantiated");
      const instance = new RealInstance(module, imports);
      const maxPages = maxima[name];
      if (maxPages !== undefined) {
        const given = new Set(Object.values(imports ?? {}).flatMap((ns) => Object.values(ns ?? {})));
        for (const value of Object.values(instance.exports)) {
          if (value instanceof RealMemory && !given.has(value)) memories.push({ memory: value, maxPages });
        }
      }
      return instance;
    },
  );
  tool = exports["warden:tool/tool@0.1.0"] as ToolExports | undefined;
}

/**
 * Whether some memory is within an eighth of its maximum (at least 1 MiB): after a trap, the likely cause
 * is that the guest's allocator could not grow it. Only a guess, used only to name the limit in the error.
 */
function nearMemoryLimit(): boolean {
  return memories.some(({ memory, maxPages }) => {
    let pages: number;
    try {
      pages = memory.grow(0);
    } catch (error) {
      if (error instanceof RealRangeError) return true;
      throw error;
    }
    return maxPages - pages <= Math.max(16, maxPages / 8);
  });
}

function describe(): string {
  if (!tool) throw new Error("the component does not export warden:tool/tool@0.1.0");
  return String(tool.describe());
}

/** Runs the tool; the result is the same envelope a JS tool's run returns, as JSON text. */
function run(inputJson: string, handlesJson: string): string {
  if (!tool) throw new Error("the component does not export warden:tool/tool@0.1.0");
  handles = JSON.parse(handlesJson) as Record<string, HandleInfo>;
  try {
    const output = tool.run(inputJson);
    if (typeof output !== "string") return failure("TOOL_ERROR", "run returned something other than text");
    return JSON.stringify({ ok: true, outputText: output });
  } catch (error) {
    // With noComponentErrorWrapping, an err result arrives as its payload; a trap arrives as an Error.
    if (error !== null && typeof error === "object" && !(error instanceof Error)) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      if (typeof code === "string" && typeof message === "string") return failure(code, message);
    }
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return JSON.stringify({
      ok: false,
      trapped: nearMemoryLimit() ? "memory" : "trap",
      error: { code: "TOOL_ERROR", message: text.slice(0, 2000) },
    });
  } finally {
    handles = {};
  }
}

function failure(code: string, message: string): string {
  return JSON.stringify({ ok: false, error: { code, message: message.slice(0, 2000) } });
}

// Fixed before the glue is evaluated, so the glue cannot put functions of its own in the runner's place.
Object.defineProperty(scope, "__wardenRunner", {
  value: Object.freeze({ start, describe, run }),
  writable: false,
  configurable: false,
});
