// A sandbox's ambient time: Date, Date.now and performance.now read the time the call started (plus the
// delays of the timers that fired since), never the live clock. Runs inside sandboxes.
//
// Why: a clock that advances while the guest computes is a timer for side channels, and the clock kind's
// rounding means nothing if Date.now() reads the same clock at 1 ms. The host hands in the time at the
// start of each phase (startClock); nothing in the guest reads the live clock, and the real Date
// constructor is reachable only from this module, so no tool code can. Unlike Cloudflare Workers, time
// does not move on I/O either: a kernel round trip takes about 0.1 ms, so it would give back a fine timer.
// A tool that needs the time as it passes asks for a clock grant (`clock.now()`).

const RealDate = Date;
const construct = Reflect.construct;

/** The wall time of the running phase's start, in ms since the epoch, as the host read it. */
let base = 0;
/** Virtual ms since then: the delay of the latest timer that fired (timers.ts). */
let offset = 0;
/** performance.timeOrigin: when the sandbox started. */
let origin = 0;

/** Called by the host at the start of every load and call, with its own Date.now(). */
export function startClock(nowMs: number, sandboxStart = false): void {
  const now = Number.isFinite(nowMs) ? Math.floor(nowMs) : 0;
  base = now;
  offset = 0;
  if (sandboxStart) origin = now;
}

/** Moves virtual time forward to `ms` past the phase's start (never back): a timer that fired. */
export function advanceClock(ms: number): void {
  if (ms > offset) offset = ms;
}

export function guestNow(): number {
  return base + offset;
}

/**
 * Replaces Date and adds performance in this context. `Date.prototype.constructor` points at the
 * replacement, so `new (new Date().constructor)()` cannot reach the live clock either.
 */
export function installClock(scope: Record<string, unknown>): void {
  function GuestDate(this: unknown, ...args: unknown[]): unknown {
    // Called without `new`, Date returns the current time as a string.
    if (new.target === undefined) return String(construct(RealDate, [guestNow()]));
    return construct(RealDate, args.length === 0 ? [guestNow()] : args, new.target);
  }
  Object.defineProperties(GuestDate, {
    prototype: { value: RealDate.prototype, writable: false, enumerable: false, configurable: false },
    now: {
      value: function now() {
        return guestNow();
      },
      writable: true,
      configurable: true,
    },
    parse: { value: RealDate.parse, writable: true, configurable: true },
    UTC: { value: RealDate.UTC, writable: true, configurable: true },
    length: { value: 7, configurable: true },
    name: { value: "Date", configurable: true },
  });
  Object.defineProperty(RealDate.prototype, "constructor", {
    value: GuestDate,
    writable: true,
    configurable: true,
  });
  Object.defineProperty(scope, "Date", { value: GuestDate, writable: true, configurable: true });

  // Intl formats the live time when given no date (V8 has Intl; QuickJS does not).
  const intl = scope.Intl as { DateTimeFormat?: { prototype: Record<string, unknown> } } | undefined;
  const formatProto = intl?.DateTimeFormat?.prototype;
  if (formatProto) {
    const formatToParts = formatProto.formatToParts as (this: unknown, date?: unknown) => unknown;
    const format = Object.getOwnPropertyDescriptor(formatProto, "format")?.get as
      | ((this: unknown) => (date?: unknown) => string)
      | undefined;
    Object.defineProperty(formatProto, "formatToParts", {
      value: function formatToParts_(this: unknown, date?: unknown) {
        return formatToParts.call(this, date === undefined ? guestNow() : date);
      },
      writable: true,
      configurable: true,
    });
    if (format) {
      Object.defineProperty(formatProto, "format", {
        get(this: unknown) {
          const bound = format.call(this);
          return (date?: unknown) => bound(date === undefined ? guestNow() : date);
        },
        configurable: true,
      });
    }
  }

  const performance = Object.freeze({
    now: () => guestNow() - origin,
    get timeOrigin() {
      return origin;
    },
  });
  Object.defineProperty(scope, "performance", { value: performance, writable: true, configurable: true });
}
