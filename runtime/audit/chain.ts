// The audit chain's rule: each record's hash covers the previous hash and the record's canonical JSON.
import { createHash } from "node:crypto";

/** The `prev` of the first record: no record came before it. */
export const GENESIS = "0".repeat(64);

/** hash = sha256(prev + text), text being the record's canonical JSON (which holds its own `id`). */
export function chainHash(prev: string, text: string): string {
  return createHash("sha256").update(prev).update(text).digest("hex");
}

/** The file the chain lives in, under a state directory. */
export const AUDIT_DB = "audit.sqlite";
