// atob and btoa, as the HTML standard defines them (forgiving-base64). Runs inside sandboxes.
import { DOMException } from "./dom-exception.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

function needArgument(name: string, count: number): void {
  if (count === 0) throw new TypeError(`${name} needs 1 argument, got 0`);
}

export function btoa(...args: unknown[]): string {
  needArgument("btoa", args.length);
  const data = String(args[0]);
  const out: string[] = [];
  for (let i = 0; i < data.length; i += 3) {
    const a = data.charCodeAt(i);
    const b = i + 1 < data.length ? data.charCodeAt(i + 1) : 0;
    const c = i + 2 < data.length ? data.charCodeAt(i + 2) : 0;
    if (a > 255 || b > 255 || c > 255) {
      throw new DOMException(
        "btoa takes only characters in the range U+0000 to U+00FF",
        "InvalidCharacterError",
      );
    }
    const n = (a << 16) | (b << 8) | c;
    out.push(
      ALPHABET[n >> 18]!,
      ALPHABET[(n >> 12) & 63]!,
      i + 1 < data.length ? ALPHABET[(n >> 6) & 63]! : "=",
      i + 2 < data.length ? ALPHABET[n & 63]! : "=",
    );
  }
  return out.join("");
}

export function atob(...args: unknown[]): string {
  needArgument("atob", args.length);
  // Forgiving-base64 decode: ASCII whitespace is removed, then up to two "=" of padding when the length
  // is a multiple of 4; what is left must be base64 characters whose length mod 4 is not 1.
  let data = String(args[0]).replace(/[\t\n\f\r ]/g, "");
  if (data.length % 4 === 0) data = data.replace(/={1,2}$/, "");
  if (data.length % 4 === 1) throw invalid();
  const out: string[] = [];
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < data.length; i++) {
    const code = data.charCodeAt(i);
    const value = code < 128 ? VALUES[code]! : -1;
    if (value < 0) throw invalid();
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push(String.fromCharCode((buffer >> bits) & 255));
    }
  }
  return out.join("");
}

function invalid(): DOMException {
  return new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
}
