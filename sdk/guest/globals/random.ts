// Randomness inside a sandbox: crypto.getRandomValues and crypto.randomUUID from a ChaCha20 stream keyed
// by 32 bytes the host drew from its CSPRNG when the sandbox started, and Math.random from a fast
// generator seeded from that stream. Runs inside sandboxes; never asks the host for more.
//
// Why a seed: QuickJS sandboxes start from one memory image, so its own Math.random began at the same
// state in every sandbox; and nothing of the host is reached per call, so randomness costs no kernel time.

import { DOMException } from "./dom-exception.ts";

/** ChaCha20's state: constants, key (8 words), block counter, nonce (3 words, zero: one key, one stream). */
const state = new Uint32Array(16);
const block = new Uint32Array(16);
const blockBytes = new Uint8Array(block.buffer);
/** Bytes of `block` already handed out; 64 means a new block is needed. */
let used = 64;
let seeded = false;

/** Keys the stream with the host's 32 random bytes (as 64 hex digits). Once per sandbox. */
export function seedRandom(hex: string): void {
  if (seeded) throw new Error("already seeded");
  if (typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) throw new TypeError("a seed is 64 hex digits");
  seeded = true;
  state.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) {
    // Little-endian words, as ChaCha20 reads its key.
    let word = 0;
    for (let b = 3; b >= 0; b--)
      word = (word << 8) | Number.parseInt(hex.slice(i * 8 + b * 2, i * 8 + b * 2 + 2), 16);
    state[4 + i] = word >>> 0;
  }
  state[12] = 0;
  state[13] = state[14] = state[15] = 0;
  used = 64;
  const words = new Uint32Array(4);
  fill(new Uint8Array(words.buffer));
  xoshiro.set(words);
  if (words.every((w) => w === 0)) xoshiro[0] = 1;
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

function quarter(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  x[a] = (x[a]! + x[b]!) | 0;
  x[d] = rotl(x[d]! ^ x[a]!, 16);
  x[c] = (x[c]! + x[d]!) | 0;
  x[b] = rotl(x[b]! ^ x[c]!, 12);
  x[a] = (x[a]! + x[b]!) | 0;
  x[d] = rotl(x[d]! ^ x[a]!, 8);
  x[c] = (x[c]! + x[d]!) | 0;
  x[b] = rotl(x[b]! ^ x[c]!, 7);
}

function nextBlock(): void {
  block.set(state);
  for (let round = 0; round < 10; round++) {
    quarter(block, 0, 4, 8, 12);
    quarter(block, 1, 5, 9, 13);
    quarter(block, 2, 6, 10, 14);
    quarter(block, 3, 7, 11, 15);
    quarter(block, 0, 5, 10, 15);
    quarter(block, 1, 6, 11, 12);
    quarter(block, 2, 7, 8, 13);
    quarter(block, 3, 4, 9, 14);
  }
  for (let i = 0; i < 16; i++) block[i] = (block[i]! + state[i]!) | 0;
  // 2^64 blocks before the counter wraps: the carry into word 13 is for form's sake.
  state[12] = (state[12]! + 1) | 0;
  if (state[12] === 0) state[13] = (state[13]! + 1) | 0;
  used = 0;
}

function fill(out: Uint8Array): void {
  if (!seeded) throw new DOMException("the sandbox has no random seed", "OperationError");
  for (let i = 0; i < out.length; i++) {
    if (used === 64) nextBlock();
    out[i] = blockBytes[used++]!;
  }
}

const INTEGER_ARRAYS = new Set([
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "BigInt64Array",
  "BigUint64Array",
]);
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayProto, Symbol.toStringTag)!.get!;

/** The Web Crypto API's getRandomValues: integer typed arrays of at most 65,536 bytes, filled in place. */
function getRandomValues<T>(array: T): T {
  // The tag getter reads the internal slot, so a look-alike object or a Proxy cannot pass for an array.
  const tag = ArrayBuffer.isView(array) ? (typedArrayTag.call(array) as string | undefined) : undefined;
  if (tag === undefined || !INTEGER_ARRAYS.has(tag)) {
    throw new DOMException("getRandomValues needs an integer typed array", "TypeMismatchError");
  }
  const view = array as unknown as { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
  if (view.byteLength > 65_536) {
    throw new DOMException(
      `getRandomValues takes at most 65536 bytes, got ${view.byteLength}`,
      "QuotaExceededError",
    );
  }
  fill(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return array;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function randomUUID(): string {
  const b = new Uint8Array(16);
  fill(b);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => HEX[x]!);
  return `${h.slice(0, 4).join("")}-${h.slice(4, 6).join("")}-${h.slice(6, 8).join("")}-${h.slice(8, 10).join("")}-${h.slice(10).join("")}`;
}

/** xoshiro128** state for Math.random: fast, not for secrets (neither is V8's own Math.random). */
const xoshiro = new Uint32Array(4);

function nextWord(): number {
  const s = xoshiro;
  const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
  const t = s[1]! << 9;
  s[2] = s[2]! ^ s[0]!;
  s[3] = s[3]! ^ s[1]!;
  s[1] = s[1]! ^ s[2]!;
  s[0] = s[0]! ^ s[3]!;
  s[2] = s[2]! ^ t;
  s[3] = rotl(s[3]!, 11);
  return result;
}

function random(): number {
  // 53 random bits: 27 from one word and 26 from the next, as V8 and others build a double.
  return ((nextWord() >>> 5) * 67108864 + (nextWord() >>> 6)) / 9007199254740992;
}

export function installRandom(scope: Record<string, unknown>): void {
  const crypto = Object.freeze({ getRandomValues, randomUUID });
  Object.defineProperty(scope, "crypto", { value: crypto, writable: true, configurable: true });
  Object.defineProperty(Math, "random", { value: random, writable: true, configurable: true });
}
