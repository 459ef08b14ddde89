// Running an isolated-vm isolate's work under a sandbox's limits: the watchdog, kills, what a kill tells the
// caller, and disposal. One owner for this, shared by the backends whose sandboxes are isolates (v8, wasm).
import ivm from "isolated-vm";
import { WardenError } from "../errors.ts";
import { firstLine } from "../text-bounds.ts";
import { preludeSource } from "./prelude.ts";
import type { Limits, Usage } from "./types.ts";
import { GuestReportedError, limitError } from "./v8/results.ts";
import { type LimitKind, watch } from "./watchdog.ts";

export type Phase = "load" | "call";
export type KillReason = LimitKind | "memory" | "flood" | "crash";

let snapshot: ivm.ExternalCopy<ArrayBuffer> | undefined;

/**
 * The guest runtime (with zod) as a V8 snapshot, made once per process for every isolate backend: zod is
 * parsed and run once, not once per sandbox.
 */
export function preludeSnapshot(): ivm.ExternalCopy<ArrayBuffer> {
  snapshot ??= ivm.Isolate.createSnapshot([{ code: preludeSource(), filename: "warden:prelude" }]);
  return snapshot;
}

/** How long dispose() waits for a killed isolate's thread to finish what V8 could not interrupt. */
const DISPOSE_WAIT_MS = 10_000;

export class IsolateSupervisor {
  private readonly isolate: ivm.Isolate;
  private readonly limits: Limits;
  /** Why the isolate was killed, if it was; turns the error its callers see into the right code. */
  private killed: KillReason | undefined;
  /** The running phase's caller, answered at once if the sandbox is killed mid-phase. */
  private current: { phase: Phase; answer: (error: WardenError) => void } | undefined;
  /** Settles when the isolate's thread is done with the last phase's work. */
  private settled: Promise<void> = Promise.resolve();
  private startedAt = performance.now();

  constructor(isolate: ivm.Isolate, limits: Limits) {
    this.isolate = isolate;
    this.limits = limits;
  }

  get dead(): boolean {
    return this.killed !== undefined || this.isolate.isDisposed;
  }

  /**
   * The phase running now (an identity token), or undefined between phases. Guest code runs only inside a
   * phase, so a reply is delivered only to the phase that asked: delivered later, it would run the awaiting
   * continuation outside every limit.
   */
  get phase(): object | undefined {
    return this.current;
  }

  /** V8 gave up on the isolate (onCatastrophicError): callers get SANDBOX_CRASHED. */
  markCrashed(): void {
    this.killed ??= "crash";
  }

  kill(reason: Exclude<KillReason, "memory" | "crash">): void {
    this.killed ??= reason;
    if (!this.isolate.isDisposed) this.isolate.dispose();
    if (this.current) this.current.answer(limitError(this.killed, this.current.phase, this.limits));
  }

  /** Runs `work` under the limits; a limit that runs out kills the isolate and becomes LIMIT_EXCEEDED. */
  async run<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    if (this.dead) throw new WardenError("SANDBOX_CRASHED", "the sandbox is no longer running");
    this.startedAt = performance.now();
    // Answers the caller as soon as a limit fires: V8 may take seconds to stop a long builtin (a huge
    // Array.fill), and the isolate's thread finishing it in the background must not hold the caller.
    const killed = new Promise<never>((_, reject) => {
      this.current = { phase, answer: reject };
    });
    const dog = watch({
      timeoutMs: this.limits.timeoutMs,
      cpuMs: this.limits.cpuMs,
      // V8 may dispose the isolate on its own (memory limit); reading it then would throw on a timer.
      cpuNow: () => (this.isolate.isDisposed ? 0 : Number(this.isolate.cpuTime) / 1e6),
      kill: (limit) => this.kill(limit),
    });
    const running = work();
    // After a kill this settles late, once the isolate's thread lets go; dispose() waits for it.
    this.settled = running.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await Promise.race([running, killed]);
    } catch (error) {
      if (error instanceof WardenError || error instanceof GuestReportedError) throw error;
      // V8 disposes an isolate on its own only when it passes its memory limit (a fatal error is marked
      // "crash" by onCatastrophicError first). Judged by the isolate's state, never by the message: a guest
      // can throw an error with any text.
      if (this.isolate.isDisposed) this.killed ??= "memory";
      if (this.killed !== undefined) throw limitError(this.killed, phase, this.limits);
      // A guest exception that escaped the guest runtime: its message, never its stack.
      const message = error instanceof Error ? error.message : String(error);
      throw new WardenError(phase === "load" ? "LOAD_ERROR" : "TOOL_ERROR", firstLine(message, 2000));
    } finally {
      dog.stop();
      this.current = undefined;
    }
  }

  /** CPU and wall time of the last phase; the heap only when asked, since reading it costs a lock. */
  usage(withHeap = true): Usage {
    const disposed = this.isolate.isDisposed;
    const usage: Usage = {
      cpuMs: disposed ? 0 : Number(this.isolate.cpuTime) / 1e6,
      wallMs: performance.now() - this.startedAt,
    };
    if (withHeap && !disposed) usage.heapBytes = this.isolate.getHeapStatisticsSync().used_heap_size;
    return usage;
  }

  /**
   * Disposes the isolate and waits (up to a bound) until its thread has let go of work still running:
   * exiting the process while V8 tears an isolate down on another thread can crash it.
   */
  async dispose(): Promise<void> {
    if (!this.isolate.isDisposed) this.isolate.dispose();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DISPOSE_WAIT_MS);
    });
    await Promise.race([this.settled, bound]);
    clearTimeout(timer);
  }
}
