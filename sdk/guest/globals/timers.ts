// setTimeout, clearTimeout and queueMicrotask inside a sandbox. Runs inside sandboxes.
//
// Timers run on virtual time: a timer fires when the guest has nothing else to do (no microtask queued,
// no handle call in flight), earliest first, and the guest's clock (clock.ts) moves to its due time. No
// real time passes and none can be measured: a timer that waited on the host's clock would be a timer for
// side channels. A timer belongs to the call (or load) that set it: once that ends, it never runs.
import { callsInFlight, onIdle, yieldTurn } from "../channel.ts";
import { advanceClock } from "./clock.ts";

interface Timer {
  due: number;
  fn: () => void;
}

/** At most this many timers pending at once; more is a runaway loop, refused with an error. */
const MAX_TIMERS = 10_000;

const PromiseCtor = Promise;
const resolved = PromiseCtor.resolve();
const then = PromiseCtor.prototype.then;

const timers = new Map<number, Timer>();
let nextId = 1;
/** Virtual ms since the phase started: the due time of the last timer that fired. */
let now = 0;
/** "turn": a turn (yieldTurn) is on its way; "blocked": waiting for the handle calls in flight to settle. */
let state: "none" | "turn" | "blocked" = "none";
/** Bumped by each reset, so a turn asked for in an earlier phase does nothing if it ever arrives. */
let generation = 0;

/** Forgets every timer: at the start of each call, so a timer from a call that ended never runs. */
export function resetTimers(): void {
  timers.clear();
  now = 0;
  state = "none";
  generation++;
}

function schedule(): void {
  if (state !== "none" || timers.size === 0) return;
  state = "turn";
  const asked = generation;
  then.call(yieldTurn(), () => {
    if (asked === generation) fire();
  });
}

onIdle(() => {
  if (state === "blocked" && callsInFlight() === 0) {
    state = "none";
    schedule();
  }
});

function fire(): void {
  state = "none";
  if (callsInFlight() > 0) {
    // Something is still to come from the host; onIdle asks for a turn again once it has.
    state = "blocked";
    return;
  }
  let nextKey: number | undefined;
  let next: Timer | undefined;
  for (const [key, timer] of timers) {
    // Map order is insertion order, so among equal due times the first set fires first.
    if (next === undefined || timer.due < next.due) {
      nextKey = key;
      next = timer;
    }
  }
  if (next === undefined || nextKey === undefined) return;
  timers.delete(nextKey);
  now = Math.max(now, next.due);
  advanceClock(now);
  try {
    next.fn();
  } finally {
    schedule();
  }
}

export function setTimeout(handler: unknown, delay?: unknown, ...args: unknown[]): number {
  if (typeof handler !== "function") {
    throw new TypeError("setTimeout needs a function (a string of code is not run in a sandbox)");
  }
  if (timers.size >= MAX_TIMERS) throw new RangeError(`more than ${MAX_TIMERS} timers pending at once`);
  const ms = Number(delay);
  const wait = Number.isFinite(ms) && ms > 0 && ms <= 0x7fffffff ? Math.floor(ms) : 0;
  const id = nextId++;
  timers.set(id, { due: now + wait, fn: () => (handler as (...a: unknown[]) => void)(...args) });
  schedule();
  return id;
}

export function clearTimeout(id?: unknown): void {
  if (typeof id === "number") timers.delete(id);
}

export function queueMicrotask(callback: unknown): void {
  if (typeof callback !== "function") throw new TypeError("queueMicrotask needs a function");
  then.call(resolved, () => (callback as () => void)());
}
