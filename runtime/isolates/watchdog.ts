// Enforces wall-time and CPU-time budgets from outside a sandbox: when one runs out, it kills the sandbox.
// Needed because a timeout passed to a single entry call does not cover work scheduled after an await.

export type LimitKind = "wall" | "cpu";

export interface Watchdog {
  stop(): void;
}

interface Watch {
  wallDeadline: number;
  cpuDeadline: number;
  cpuNow: () => number;
  kill: (limit: LimitKind) => void;
}

/** How often budgets are checked; also the most a limit can be overshot by, on the host's side. */
const TICK_MS = 5;

// One ticker serves every sandbox: arming two timers per call cost more than the checks themselves.
const active = new Set<Watch>();
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  const now = performance.now();
  for (const w of active) {
    const limit = now >= w.wallDeadline ? "wall" : w.cpuNow() >= w.cpuDeadline ? "cpu" : undefined;
    if (limit) {
      active.delete(w);
      w.kill(limit);
    }
  }
  if (active.size === 0 && ticker) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

/**
 * Starts watching. `cpuNow` reads the sandbox's CPU time in ms; `kill` is called at most once, with the
 * limit that ran out. Polling CPU every few ms costs far less than an isolate call and bounds overshoot.
 */
export function watch(options: {
  timeoutMs: number;
  cpuMs: number;
  cpuNow: () => number;
  kill: (limit: LimitKind) => void;
}): Watchdog {
  const w: Watch = {
    wallDeadline: performance.now() + options.timeoutMs,
    cpuDeadline: options.cpuNow() + options.cpuMs,
    cpuNow: options.cpuNow,
    kill: options.kill,
  };
  active.add(w);
  ticker ??= setInterval(tick, Math.min(TICK_MS, Math.max(1, options.cpuMs / 10)));
  return { stop: () => void active.delete(w) };
}
