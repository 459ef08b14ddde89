// structuredClone, after the HTML standard's structured serialization, for the types a sandbox has.
// Runs inside sandboxes; it only ever copies guest values into new guest values.
import { DOMException } from "./dom-exception.ts";

type Brand = (value: object) => unknown;

/** A getter or method that throws unless `value` really has the internal slot (a spoofed tag cannot pass). */
function brand(proto: object, key: string | symbol, method = false): Brand {
  const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
  const fn = (method ? descriptor.value : descriptor.get) as (this: object) => unknown;
  return (value) => fn.call(value);
}

function has(check: Brand, value: object): boolean {
  try {
    check(value);
    return true;
  } catch {
    return false;
  }
}

const isMap = brand(Map.prototype, "size");
const isSet = brand(Set.prototype, "size");
const isDate = brand(Date.prototype, "getTime", true);
const isArrayBuffer = brand(ArrayBuffer.prototype, "byteLength");
const isDataView = brand(DataView.prototype, "byteLength");
const typedArrayTag = brand(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag);
const regExpSource = brand(RegExp.prototype, "source");
const regExpFlags = brand(RegExp.prototype, "flags");
const WRAPPERS: Array<[Brand, (v: unknown) => object]> = [
  [brand(Boolean.prototype, "valueOf", true), (v) => Object(v as boolean)],
  [brand(Number.prototype, "valueOf", true), (v) => Object(v as number)],
  [brand(String.prototype, "valueOf", true), (v) => Object(v as string)],
  [brand(BigInt.prototype, "valueOf", true), (v) => Object(v as bigint)],
];
const UNCLONEABLE: Brand[] = [
  brand(Symbol.prototype, "valueOf", true),
  brand(WeakMap.prototype, "has", true),
  brand(WeakSet.prototype, "has", true),
  brand(WeakRef.prototype, "deref", true),
];
if (typeof SharedArrayBuffer === "function")
  UNCLONEABLE.push(brand(SharedArrayBuffer.prototype, "byteLength"));
const ERROR_TYPES: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};
const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => object> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
const float16 = (globalThis as Record<string, unknown>).Float16Array;
if (typeof float16 === "function") TYPED_ARRAYS.Float16Array = float16 as (typeof TYPED_ARRAYS)[string];

function uncloneable(what: string): DOMException {
  return new DOMException(`${what} could not be cloned.`, "DataCloneError");
}

function cloneValue(value: unknown, memory: Map<object, unknown>): unknown {
  if (typeof value === "symbol") throw uncloneable("Symbol()");
  if (typeof value === "function") throw uncloneable(`function ${value.name || "anonymous"}`);
  if (value === null || typeof value !== "object") return value;
  if (memory.has(value)) return memory.get(value);
  for (const check of UNCLONEABLE) if (has(check, value)) throw uncloneable("#<Object>");
  for (const [check, wrap] of WRAPPERS) {
    if (has(check, value)) return remember(memory, value, wrap(check(value)));
  }
  if (has(isDate, value)) return remember(memory, value, new Date(isDate(value) as number));
  if (has(regExpSource, value)) {
    return remember(memory, value, new RegExp(regExpSource(value) as string, regExpFlags(value) as string));
  }
  if (has(isArrayBuffer, value)) {
    return remember(memory, value, ArrayBuffer.prototype.slice.call(value as ArrayBuffer, 0));
  }
  // The tag getter returns undefined (it does not throw) for anything but a typed array.
  if (typedArrayTag(value) !== undefined || has(isDataView, value)) {
    const view = value as { buffer: ArrayBuffer; byteOffset: number; byteLength: number; length?: number };
    const tag = typedArrayTag(view) as string | undefined;
    const buffer = cloneValue(view.buffer, memory) as ArrayBuffer;
    const out =
      tag === undefined
        ? new DataView(buffer, view.byteOffset, view.byteLength)
        : new TYPED_ARRAYS[tag]!(buffer, view.byteOffset, view.length!);
    return remember(memory, value, out);
  }
  if (has(isMap, value)) {
    const out = remember(memory, value, new Map());
    const entries = [...(value as Map<unknown, unknown>)];
    for (const [k, v] of entries) out.set(cloneValue(k, memory), cloneValue(v, memory));
    return out;
  }
  if (has(isSet, value)) {
    const out = remember(memory, value, new Set());
    for (const v of [...(value as Set<unknown>)]) out.add(cloneValue(v, memory));
    return out;
  }
  if (value instanceof Error) {
    const name = Object.hasOwn(ERROR_TYPES, value.name) ? value.name : "Error";
    const out = remember(memory, value, new ERROR_TYPES[name]!());
    const message = Object.getOwnPropertyDescriptor(value, "message");
    if (message && "value" in message) out.message = String(message.value);
    else delete (out as { message?: string }).message;
    if (Object.hasOwn(value, "cause")) out.cause = cloneValue(value.cause, memory);
    return out;
  }
  const out = remember(memory, value, Array.isArray(value) ? new Array(value.length) : {}) as Record<
    string,
    unknown
  >;
  for (const key of Object.keys(value)) {
    // Defined, not assigned: an own key "__proto__" stays a key and never sets the clone's prototype.
    const copy = cloneValue((value as Record<string, unknown>)[key], memory);
    Object.defineProperty(out, key, { value: copy, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

function remember<T>(memory: Map<object, unknown>, from: object, to: T): T {
  memory.set(from, to);
  return to;
}

export function structuredClone(...args: unknown[]): unknown {
  if (args.length === 0) throw new TypeError("structuredClone needs 1 argument, got 0");
  const options = args[1] as { transfer?: unknown[] } | undefined;
  if (options?.transfer !== undefined && [...options.transfer].length > 0) {
    throw new DOMException("structuredClone cannot transfer objects in a sandbox", "DataCloneError");
  }
  return cloneValue(args[0], new Map());
}
