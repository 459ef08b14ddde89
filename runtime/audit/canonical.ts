// Canonical JSON for hashing: keys sorted at every level, undefined members dropped, no whitespace.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function canonicalValue(value: unknown): Json {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") {
    // JSON has no NaN or Infinity; a record holding one is a bug, not something to hash quietly.
    if (!Number.isFinite(value)) throw new TypeError("canonical JSON cannot hold a non-finite number");
    return value;
  }
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (typeof value === "object") {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = canonicalValue(member);
    }
    return out;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** The one text a value hashes as, whatever order its keys were built in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value));
}
