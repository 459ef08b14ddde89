// Bounds every backend applies to what a guest sends the host: one place, so backends cannot drift apart.
import { randomBytes } from "node:crypto";
import type { HostCall } from "./types.ts";

/** Largest request a guest may send in one handle call; bigger ones are refused before decoding. */
export const MAX_REQUEST_CHARS = 16 << 20;

/**
 * Requests received but not yet answered. The guest runtime keeps far fewer in flight, so more means the
 * guest subverted it to flood the host's queue: the sandbox is killed.
 */
export const MAX_OUTSTANDING = 256;

/**
 * JSON values one handle call's arguments may hold. Decoding and parsing them run on the kernel's thread at a
 * few microseconds a value (tens where each is a problem zod reports), so 16 MiB of `[0,0,…]` would hold it
 * for many seconds; this many keeps the worst case (20,000 bad header names) to about half a second on a
 * busy machine.
 */
export const MAX_REQUEST_VALUES = 20_000;

/** Largest tool module accepted; it is compiled on the host's thread. */
export const MAX_SOURCE_CHARS = 16 << 20;

/** How long an output check may run on the host's thread before it is redone on isolated-vm's pool. */
export const SYNC_CHECK_MS = 5;

/**
 * Passes one guest request to the kernel, or refuses it unread when its parts are not what the channel
 * carries (or it is over the size bound). Never rejects: the reply is JSON the guest can read.
 */
export function forwardRequest(
  hostCall: HostCall,
  fd: unknown,
  op: unknown,
  argsJson: unknown,
): Promise<string> {
  if (
    typeof fd !== "number" ||
    typeof op !== "string" ||
    typeof argsJson !== "string" ||
    argsJson.length > MAX_REQUEST_CHARS
  ) {
    return Promise.resolve(MALFORMED);
  }
  // A timer's turn (sdk/guest/globals/timers.ts): answered here, never by the kernel. The reply reaches
  // the guest as a new task, after its microtasks; it carries nothing, and the backend's bound on
  // unanswered requests holds for these too. Answered from setImmediate, not a resolved promise: a guest
  // whose timers chain forever must still leave the host's event loop its other tasks (a backend that
  // runs the guest on the host's thread would otherwise never leave the microtask queue).
  if (op === YIELD_OP) return new Promise((resolve) => setImmediate(resolve, YIELDED));
  return hostCall(fd, op, argsJson);
}

/** The op the guest runtime sends for a turn (sdk/guest/channel.ts). */
export const YIELD_OP = "$yield";
const YIELDED = JSON.stringify({ ok: true, value: null });

/** 32 bytes from the host's CSPRNG, as hex: a new sandbox's random seed (sdk/guest/globals/random.ts). */
export function sandboxSeed(): string {
  return randomBytes(32).toString("hex");
}

const MALFORMED = JSON.stringify({
  ok: false,
  error: { code: "INVALID_ARGUMENT", message: "malformed handle call (or over 16 MiB)" },
});
