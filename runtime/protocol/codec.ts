// The wire encoding between kernel and sandboxes: JSON, with bytes as tagged base64. Pure JS, so guests bundle it too.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** The tag that marks bytes in a JSON message: `{ "$bytes": "<base64>" }`. Data keys never look like it. */
export const BYTES_TAG = "$bytes";

export function bytesToBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}${ALPHABET[(n >> 6) & 63]!}=`;
  }
  return out;
}

export function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/=+$/, "");
  if (clean.length % 4 === 1) throw new TypeError("invalid base64");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    let n = 0;
    const chunk = Math.min(4, clean.length - i);
    for (let j = 0; j < 4; j++) {
      const c = j < chunk ? clean.charCodeAt(i + j) : 65; // "A" pads a short final chunk with zero bits
      const v = c < 128 ? LOOKUP[c]! : -1;
      if (v < 0) throw new TypeError("invalid base64");
      n = (n << 6) | v;
    }
    out[o++] = (n >> 16) & 255;
    if (chunk > 2) out[o++] = (n >> 8) & 255;
    if (chunk > 3) out[o++] = n & 255;
  }
  return out;
}

/**
 * Keys starting with "$" are reserved for tags. A data key that starts with "$" gets one more "$" on the wire
 * ("$bytes" travels as "$$bytes") and loses it again in `decode`, so no data (a header named "$bytes", a kv
 * value `{"$bytes": "…"}`) can be read as a tag.
 */
function escapeKeys(value: object): object {
  let reserved = false;
  for (const k of Object.keys(value)) if (k.startsWith("$")) reserved = true;
  if (!reserved) return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) define(out, k.startsWith("$") ? `$${k}` : k, v);
  return out;
}

function unescapeKeys(value: object): object {
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith("$$")) define(out, k.slice(1), v);
    else if (k.startsWith("$")) throw new TypeError(`malformed tag ${JSON.stringify(k.slice(0, 40))}`);
    else define(out, k, v);
  }
  return out;
}

/** An own data property, as JSON.parse makes it: a key "__proto__" must not set the prototype. */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function encode(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return { [BYTES_TAG]: bytesToBase64(v) };
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return escapeKeys(v);
    return v;
  });
}

export function decode(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const keys = Object.keys(v);
    if (!keys.some((k) => k.startsWith("$"))) return v;
    const tagged = (v as Record<string, unknown>)[BYTES_TAG];
    if (keys.length === 1 && typeof tagged === "string") return base64ToBytes(tagged);
    return unescapeKeys(v);
  });
}

/**
 * The operation name a guest sends to derive a narrower handle (`handle.attenuate()`): not an operation of
 * any kind, so no kind can define one by that name; the bridge routes it to `Kernel.attenuateCall`.
 */
export const ATTENUATE_OP = "$attenuate";

/** The reply to one handle call, as it crosses into the sandbox. */
export type Reply = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };
