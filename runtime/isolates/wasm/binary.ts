// Reading and writing the WebAssembly binary format's building blocks: LEB128 numbers, names and sections.
import { WardenError } from "../../errors.ts";

/** A cursor over bytes that refuses to read past the end (a malformed binary is a LOAD_ERROR, never a crash). */
export class Reader {
  readonly bytes: Uint8Array;
  offset: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.bytes = bytes;
    this.offset = offset;
    this.end = end;
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  byte(): number {
    if (this.offset >= this.end) throw malformed("unexpected end");
    return this.bytes[this.offset++]!;
  }

  /** An unsigned LEB128 number of at most `bits` bits (32 or 64; 64-bit values above 2^53 are refused). */
  u(bits = 32): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < Math.ceil(bits / 7); i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (result > 2 ** Math.min(bits, 53) - 1) throw malformed("number out of range");
        return result;
      }
      scale *= 128;
    }
    throw malformed("number too long");
  }

  /** A signed LEB128 number (s33 for component value types: primitives are negative, indices are not). */
  s(bits = 33): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < Math.ceil(bits / 7); i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return b & 0x40 ? result - scale : result;
    }
    throw malformed("number too long");
  }

  take(length: number): Uint8Array {
    if (length > this.end - this.offset) throw malformed("unexpected end");
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  name(): string {
    const bytes = this.take(this.u());
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw malformed("a name is not UTF-8");
    }
  }
}

export function malformed(what: string): WardenError {
  return new WardenError("LOAD_ERROR", `the WebAssembly binary is malformed (${what})`);
}

export function encodeU(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

export interface Section {
  id: number;
  /** The section's contents, without its id and size. */
  body: Uint8Array;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** The 8-byte preamble's version and layer: core modules are 1/0, components 0x0d/1. */
export function preamble(bytes: Uint8Array): { version: number; layer: number } {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw malformed("no \\0asm header");
  return { version: bytes[4]! | (bytes[5]! << 8), layer: bytes[6]! | (bytes[7]! << 8) };
}

export function isComponent(bytes: Uint8Array): boolean {
  const { version, layer } = preamble(bytes);
  return layer === 1 && version === 0x0d;
}

/** The top-level sections, in order (nested modules and components stay inside their sections' bodies). */
export function sections(bytes: Uint8Array): Section[] {
  preamble(bytes);
  const r = new Reader(bytes, 8);
  const out: Section[] = [];
  while (!r.done) {
    const id = r.byte();
    out.push({ id, body: r.take(r.u()) });
  }
  return out;
}

/** Re-assembles a binary from a preamble and sections. */
export function assemble(head: Uint8Array, parts: Section[]): Uint8Array {
  const chunks: Uint8Array[] = [head.subarray(0, 8)];
  for (const s of parts) chunks.push(Uint8Array.of(s.id, ...encodeU(s.body.length)), s.body);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
