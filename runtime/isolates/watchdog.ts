// Enforces wall-time and CPU-time budgets from outside a sandbox: when one runs out, it kills the sandbox.
// Needed because a timeout passed to a single entry call does not cover work scheduled after an await.

export type LimitKind = "wall" | "cpu";

export interface Watchdog {
  stop(): void;
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
  const cpuStart = options.cpuNow();
  let fired = false;
  const fire = (limit: LimitKind) => {
    if (fired) return;
    fired = true;
    stop();
    options.kill(limit);
  };
  const wall = setTimeout(() => fire("wall"), options.timeoutMs);
  const cpu = setInterval(
    () => {
      if (options.cpuNow() - cpuStart > options.cpuMs) fire("cpu");
    },
    Math.max(2, Math.min(10, options.cpuMs / 10)),
  );
  const stop = () => {
    clearTimeout(wall);
    clearInterval(cpu);
  };
  return { stop };
}
