// The guest's end of the kernel channel: numbered requests out, replies matched back in. Runs inside sandboxes.
import { decode, encode, type Reply } from "../../runtime/protocol/codec.ts";
import { WardenError } from "./errors.ts";

export type Send = (id: number, fd: number, op: string, argsJson: string) => void;

type Pending = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

/** Matches the kernel's own limit, refused here first so a flood never reaches the host's queue. */
const MAX_IN_FLIGHT = 64;

// Captured before any tool code runs: a tool that replaces the global Promise cannot make this module
// run an executor twice and so send more requests than it counted.
const PromiseCtor = Promise;
const rejected = (error: unknown) => PromiseCtor.reject(error);

let send: Send | undefined;
let nextId = 1;
let inFlight = 0;
const pending = new Map<number, Pending>();
/** Turn requests (yieldTurn) waiting for their reply; they are not handle calls and count apart. */
const turns = new Map<number, () => void>();
/** Told when the last handle call in flight settles (timers.ts fires timers only then). */
let idle: (() => void) | undefined;

/**
 * The op of a request the backend answers itself, at once, without the kernel (runtime/isolates/bounds.ts):
 * its reply arrives as a new task, after the guest's microtasks, which is how timers get a turn.
 */
export const YIELD_OP = "$yield";

export function connect(fn: Send): void {
  if (send) throw new Error("already connected");
  send = fn;
}

export function hostCall(fd: number, op: string, args: unknown): Promise<unknown> {
  const out = send;
  if (!out) return rejected(new WardenError("INTERNAL", "not connected to the kernel"));
  if (inFlight >= MAX_IN_FLIGHT) {
    return rejected(
      new WardenError("LIMIT_EXCEEDED", `more than ${MAX_IN_FLIGHT} handle calls in flight at once`),
    );
  }
  let argsJson: string;
  try {
    argsJson = encode(args ?? {});
  } catch (error) {
    return rejected(error);
  }
  const id = nextId++;
  inFlight++;
  return new PromiseCtor((resolve, reject) => {
    pending.set(id, { resolve, reject });
    out(id, fd, op, argsJson);
  });
}

/** Handle calls sent and not yet answered in this phase. */
export function callsInFlight(): number {
  return inFlight;
}

export function onIdle(fn: () => void): void {
  idle = fn;
}

/** Resolves in a later task: after every microtask queued before it has run. */
export function yieldTurn(): Promise<void> {
  const out = send;
  if (!out) return rejected(new WardenError("INTERNAL", "not connected to the kernel"));
  const id = nextId++;
  return new PromiseCtor<void>((resolve) => {
    turns.set(id, resolve);
    out(id, 0, YIELD_OP, "{}");
  });
}

/**
 * Forgets requests of earlier phases: the backend delivers a reply only to the phase that asked, so
 * theirs never come, and counting them would refuse handle calls in every later call.
 */
export function resetChannel(): void {
  pending.clear();
  turns.clear();
  inFlight = 0;
}

export function reply(id: number, json: string): void {
  const turn = turns.get(id);
  if (turn) {
    turns.delete(id);
    turn();
    return;
  }
  const waiter = pending.get(id);
  if (!waiter) return;
  pending.delete(id);
  inFlight--;
  if (inFlight === 0) idle?.();
  const message = decode(json) as Reply;
  if (message.ok) waiter.resolve(message.value);
  else
    waiter.reject(
      new WardenError(message.error?.code ?? "INTERNAL", message.error?.message ?? "unknown error"),
    );
}
