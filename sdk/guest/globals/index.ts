// The web-platform globals a sandbox offers, the same on every JS backend, and the calls that drive them:
// installGlobals (each new context, before tool code), startSandbox (once, with the host's seed and
// time), startPhase (each call). URL and URLSearchParams are installed apart, once in the prelude
// (url.ts), so that every context has them, the output checker's too (z.url() needs URL). Runs inside sandboxes; none of these reaches the host but
// console, and console only through the log handle the tool was granted.
import { atob, btoa } from "./base64.ts";
import { installClock, startClock } from "./clock.ts";
import { structuredClone } from "./clone.ts";
import { makeConsole, setConsoleTarget } from "./console.ts";
import { DOMException } from "./dom-exception.ts";
import { installRandom, seedRandom } from "./random.ts";
import { clearTimeout, queueMicrotask, resetTimers, setTimeout } from "./timers.ts";

export function installGlobals(scope: Record<string, unknown>): void {
  const plain: Record<string, unknown> = {
    atob,
    btoa,
    structuredClone,
    queueMicrotask,
    setTimeout,
    clearTimeout,
    DOMException,
    console: makeConsole(),
  };
  for (const [name, value] of Object.entries(plain)) {
    Object.defineProperty(scope, name, { value, writable: true, configurable: true });
  }
  installRandom(scope);
  installClock(scope);
}

let started = false;

/**
 * Once per sandbox, before any tool code: keys its random stream with the host's 32 random bytes (as hex)
 * and sets its clock. A second call (a tool calling it) is refused, so a tool cannot pick its own seed.
 */
export function startSandbox(seedHex: string, nowMs: number): void {
  if (started) throw new Error("the sandbox has already started");
  started = true;
  seedRandom(seedHex);
  startClock(nowMs, true);
}

/**
 * At the start of each call: the time the host read, no timer from an earlier call, console to the log
 * handle if the tool holds one. A tool may call this itself (through __warden.run); it then only sets its
 * own clock to a time it chose, which tells it nothing.
 */
export function startPhase(nowMs: number, handles: Record<string, { fd: number; kind: string }>): void {
  startClock(nowMs);
  resetTimers();
  const log = Object.values(handles).find((h) => h.kind === "log");
  setConsoleTarget(log?.fd);
}

/**
 * When the tool's run (or its module's evaluation) has settled: a timer still pending, or a turn on its
 * way, never runs after that, even in the moment before the host sees the phase end; console goes quiet.
 */
export function endPhase(): void {
  resetTimers();
  setConsoleTarget(undefined);
}
