// UTF-8 text <-> bytes in pure JS, the project's one codec: V8 isolates have no TextEncoder/TextDecoder, and
// guests (the guest runtime, the wasm runner) need them. Runs on the host and inside sandboxes alike.

/**
 * Encodes whole code points into `into` while they fit, as TextEncoder.encodeInto does; a lone surrogate
 * becomes U+FFFD. Returns the UTF-16 units read and the bytes written.
 */
export function utf8EncodeInto(text: string, into: Uint8Array): { read: number; written: number } {
  let read = 0;
  let written = 0;
  while (read < text.length) {
    let c = text.charCodeAt(read);
    let units = 1;
    if (c >= 0xd800 && c <= 0xdbff && read + 1 < text.length) {
      const d = text.charCodeAt(read + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        units = 2;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate cannot be encoded
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (written + size > into.length) break;
    if (size === 1) into[written] = c;
    else if (size === 2) {
      into[written] = 0xc0 | (c >> 6);
      into[written + 1] = 0x80 | (c & 63);
    } else if (size === 3) {
      into[written] = 0xe0 | (c >> 12);
      into[written + 1] = 0x80 | ((c >> 6) & 63);
      into[written + 2] = 0x80 | (c & 63);
    } else {
      into[written] = 0xf0 | (c >> 18);
      into[written + 1] = 0x80 | ((c >> 12) & 63);
      into[written + 2] = 0x80 | ((c >> 6) & 63);
      into[written + 3] = 0x80 | (c & 63);
    }
    written += size;
    read += units;
  }
  return { read, written };
}

export function utf8Encode(text: string): Uint8Array {
  // At most three bytes per UTF-16 unit (a surrogate pair is two units for four bytes).
  const out = new Uint8Array(text.length * 3);
  return out.slice(0, utf8EncodeInto(text, out).written);
}

/**
 * Decodes into UTF-16 units and joins them in chunks: appending a character at a time took seconds for a
 * megabyte. A malformed sequence becomes one U+FFFD, as the WHATWG decoder's replacement does.
 */
export function utf8Decode(bytes: Uint8Array): string {
  const units = new Uint16Array(bytes.length);
  let n = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      units[n++] = b;
      i++;
      continue;
    }
    let need = 0;
    let c = 0xfffd;
    if (b >= 0xc2 && b < 0xe0) {
      need = 1;
      c = b & 31;
    } else if (b >= 0xe0 && b < 0xf0) {
      need = 2;
      c = b & 15;
    } else if (b >= 0xf0 && b < 0xf5) {
      need = 3;
      c = b & 7;
    }
    let j = 1;
    for (; j <= need; j++) {
      const next = bytes[i + j];
      if (next === undefined || (next & 0xc0) !== 0x80) break;
      c = (c << 6) | (next & 63);
    }
    if (
      need === 0 ||
      j <= need ||
      (need === 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
      (need === 3 && (c < 0x10000 || c > 0x10ffff))
    ) {
      units[n++] = 0xfffd;
      i += Math.max(1, j);
      continue;
    }
    if (c >= 0x10000) {
      units[n++] = 0xd800 + ((c - 0x10000) >> 10);
      units[n++] = 0xdc00 + ((c - 0x10000) & 0x3ff);
    } else units[n++] = c;
    i += need + 1;
  }
  let out = "";
  for (let k = 0; k < n; k += 8192) {
    out += String.fromCharCode.apply(null, units.subarray(k, Math.min(n, k + 8192)) as unknown as number[]);
  }
  return out;
}
