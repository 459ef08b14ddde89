// Pre-started sandboxes per backend and limits, so a load takes a ready one and start-up leaves the request path.
import type { Backend, HostCall, Limits, Sandbox } from "./types.ts";

export interface SandboxPoolOptions {
  /** Ready sandboxes kept per backend and limits (default 2); 0 turns the pool off. */
  spares?: number;
  /** How many backend-and-limits keys keep spares at once; the least recently used gives way (default 4). */
  keys?: number;
  /**
   * How long no load may have taken a spare before the pool refills (default 20 ms). Starting a sandbox
   * holds the kernel's thread for a few ms; refilled at once, it would land inside the load that just took
   * a spare (and the loads after it, in a burst) instead of in the idle time between loads.
   */
  quietMs?: number;
}

/** What a spare answers if anything in it called the host before it was handed out (nothing runs in it). */
const UNBOUND = JSON.stringify({
  ok: false,
  error: { code: "CAPABILITY_DENIED", message: "this sandbox holds no handles yet" },
});

interface Spare {
  sandbox: Sandbox;
  bind(hostCall: HostCall): void;
}

/**
 * A spare is a sandbox created exactly as a load would create it, which has loaded no module and run no
 * code: handing it out is the same as creating it then, so nothing can carry over from one tool to the
 * next. A sandbox is never returned to the pool after use; each is used by one tool and disposed.
 * Only the host call is bound late, through an indirection the spare was created with.
 */
export class SandboxPool {
  private readonly spares: number;
  private readonly maxKeys: number;
  /** Ready spares by key, in least-recently-used order (a Map keeps insertion order). */
  private readonly ready = new Map<string, Spare[]>();
  private readonly filling = new Set<string>();
  private readonly quietMs: number;
  private lastTake = 0;
  private closed = false;
  /** Loads that got a ready sandbox; for tests and the bench. */
  taken = 0;

  constructor(options: SandboxPoolOptions = {}) {
    this.spares = options.spares ?? 2;
    this.maxKeys = options.keys ?? 4;
    this.quietMs = options.quietMs ?? 20;
  }

  /** Ready sandboxes across every key. */
  get spareCount(): number {
    let count = 0;
    for (const list of this.ready.values()) count += list.length;
    return count;
  }

  /** A backend whose `create` takes a spare of the same limits when one is ready. */
  wrap(backend: Backend): Backend {
    return {
      name: backend.name,
      create: (options) => this.take(backend, options.limits, options.hostCall),
    };
  }

  /** Disposes every spare; later loads create sandboxes directly. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    await Promise.all(all.map((spare) => spare.sandbox.dispose()));
  }

  private async take(backend: Backend, limits: Limits, hostCall: HostCall): Promise<Sandbox> {
    if (this.closed || this.spares === 0) return backend.create({ limits, hostCall });
    const key = `${backend.name} ${limits.memoryMb} ${limits.cpuMs} ${limits.timeoutMs} ${limits.outputKb}`;
    const list = this.ready.get(key);
    // Most recently used last, so eviction takes the key unused longest.
    this.ready.delete(key);
    this.ready.set(key, list ?? []);
    let spare = list?.shift();
    while (spare?.sandbox.dead) {
      await spare.sandbox.dispose();
      spare = list?.shift();
    }
    this.lastTake = performance.now();
    this.refill(backend, limits, key);
    if (!spare) return backend.create({ limits, hostCall });
    this.taken++;
    spare.bind(hostCall);
    return spare.sandbox;
  }

  /** Tops the key up, one spare at a time, once no load has taken one for `quietMs`: no load waits for it. */
  private refill(backend: Backend, limits: Limits, key: string): void {
    if (this.filling.has(key)) return;
    this.filling.add(key);
    this.evict();
    const fill = async () => {
      try {
        for (;;) {
          const list = this.ready.get(key);
          if (this.closed || list === undefined || list.length >= this.spares) return;
          const quiet = performance.now() - this.lastTake;
          if (quiet < this.quietMs) {
            await new Promise((resolve) => setTimeout(resolve, this.quietMs - quiet).unref());
            continue;
          }
          const spare = await this.start(backend, limits);
          if (this.closed || !this.ready.has(key)) {
            await spare.sandbox.dispose();
            return;
          }
          list.push(spare);
        }
      } catch {
        // A spare that fails to start is not needed by anyone yet; the next load creates its own, and
        // reports that failure to its caller.
      } finally {
        this.filling.delete(key);
      }
    };
    void fill();
  }

  private async start(backend: Backend, limits: Limits): Promise<Spare> {
    let target: HostCall = async () => UNBOUND;
    const sandbox = await backend.create({ limits, hostCall: (fd, op, args) => target(fd, op, args) });
    return {
      sandbox,
      bind: (hostCall) => {
        target = hostCall;
      },
    };
  }

  private evict(): void {
    while (this.ready.size > this.maxKeys) {
      const [oldest, spares] = this.ready.entries().next().value as [string, Spare[]];
      this.ready.delete(oldest);
      for (const spare of spares) void spare.sandbox.dispose();
    }
  }
}
