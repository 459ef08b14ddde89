// Sandboxes of an engine whose guest runs on the calling thread (QuickJS), each run in a worker thread of its
// own, so no guest ever holds the kernel's thread: a builtin the engine cannot interrupt (a quadratic
// indexOf) runs on the sandbox's thread, and the kernel ends that thread at the limit.
import { Worker } from "node:worker_threads";
import { isErrorCode, WardenError } from "../../errors.ts";
import { forwardRequest, MAX_OUTSTANDING } from "../bounds.ts";
import { GuestReportedError, limitError } from "../results.ts";
import type {
  Backend,
  HostCall,
  Limits,
  RawDescriptor,
  RunOutcome,
  Sandbox,
  SandboxModule,
} from "../types.ts";

/** How long past its wall-time limit a load or call may run before the kernel ends its thread. */
const GRACE_MS = 1000;
/** How far past its CPU-time limit a sandbox's thread may run (the engine's own check stops it first). */
const CPU_GRACE_MS = 500;
/** How often the thread's CPU time is read while a phase runs. */
const POLL_MS = 50;
/** Starting a thread, importing an engine and making a sandbox; beyond this the thread is presumed stuck. */
const CREATE_BOUND_MS = 20_000;

/** Kernel to thread: a phase (answered by one `done` or `fail`), or the answer to a handle call. */
export type ThreadDown =
  | { t: "load"; req: number; module: SandboxModule }
  | { t: "run"; req: number; inputJson: string; handlesJson: string; outputSchemaJson: string }
  | { t: "reply"; id: number; json: string };

export interface ThreadFailure {
  /** True when the guest reported the error itself: the kernel decides whether to believe its code. */
  guest: boolean;
  code: string;
  message: string;
}

/** Thread to kernel. */
export type ThreadUp =
  | { t: "ready" }
  | { t: "call"; id: number; fd: number; op: string; argsJson: string }
  | { t: "done"; req: number; value: unknown; dead: boolean }
  | { t: "fail"; req: number; error: ThreadFailure; dead: boolean };

type KillReason = "wall" | "cpu" | "memory" | "flood" | "crash";

interface Pending {
  phase: "load" | "call";
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

class ThreadSandbox implements Sandbox {
  private readonly worker: Worker;
  private readonly limits: Limits;
  private readonly hostCall: HostCall;
  private pending: Pending | undefined;
  private nextReq = 0;
  private waitingCalls = 0;
  private killed: KillReason | undefined;
  private reportedDead = false;
  private disposed = false;
  private startedAt = performance.now();
  private readonly ready: Promise<void>;
  private readonly exited: Promise<void>;

  constructor(engine: string, limits: Limits, hostCall: HostCall) {
    this.limits = limits;
    this.hostCall = hostCall;
    this.worker = new Worker(new URL("./worker.ts", import.meta.url), {
      workerData: { engine, limits },
      // The thread's own JS heap (not the sandbox's, which the engine caps): what the host code there holds.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(128, limits.memoryMb * 4) },
      stdout: false,
      stderr: false,
    });
    // An idle sandbox never keeps the kernel's process alive; a phase's own timer does while it runs.
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once("exit", () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.end("crash");
        reject(new WardenError("SANDBOX_CRASHED", "the sandbox's thread did not start in time"));
      }, CREATE_BOUND_MS);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      this.pending = { phase: "load", resolve: () => settle(), reject: settle };
    });
    this.worker.on("message", (message: ThreadUp) => this.onMessage(message));
    this.worker.on("error", () => this.end("crash"));
    this.worker.on("exit", () => this.end("crash"));
  }

  static async create(engine: string, limits: Limits, hostCall: HostCall): Promise<ThreadSandbox> {
    const sandbox = new ThreadSandbox(engine, limits, hostCall);
    try {
      await sandbox.ready;
    } catch (error) {
      await sandbox.dispose();
      throw error;
    }
    return sandbox;
  }

  get dead(): boolean {
    return this.killed !== undefined || this.reportedDead || this.disposed;
  }

  load(module: SandboxModule): Promise<RawDescriptor> {
    return this.phase("load", (req) => ({ t: "load", req, module }));
  }

  async run(inputJson: string, handlesJson: string, outputSchemaJson: string): Promise<RunOutcome> {
    const value = await this.phase("call", (req) => ({
      t: "run",
      req,
      inputJson,
      handlesJson,
      outputSchemaJson,
    }));
    const outcome = value as RunOutcome;
    // The output limit is the kernel's to keep, whatever the thread says.
    if (typeof outcome?.outputJson !== "string" || outcome.outputJson.length > this.limits.outputKb * 1024) {
      this.end("crash");
      throw new WardenError("SANDBOX_CRASHED", "the sandbox's thread returned a malformed result");
    }
    const cpuMs = typeof outcome.usage?.cpuMs === "number" ? outcome.usage.cpuMs : 0;
    return { outputJson: outcome.outputJson, usage: { cpuMs, wallMs: performance.now() - this.startedAt } };
  }

  /** Ends the thread; a thread busy in a builtin is stopped where it is, so nothing here waits on it long. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.end("crash");
    await this.exited;
  }

  /**
   * Runs one phase in the thread under the kernel's own bounds: its wall-time limit plus a grace, and its
   * CPU-time limit plus a grace, read from the thread's clock. Past either the thread is ended.
   */
  private phase(phase: "load" | "call", message: (req: number) => ThreadDown): Promise<unknown> {
    if (this.dead)
      return Promise.reject(new WardenError("SANDBOX_CRASHED", "the sandbox is no longer running"));
    const req = ++this.nextReq;
    this.startedAt = performance.now();
    return new Promise<unknown>((resolve, reject) => {
      let cpuStart: number | undefined;
      let polling = false;
      const poll = setInterval(() => {
        // Worker#cpuUsage arrived in Node 24.6; without it the wall-time bound still holds.
        if (polling || typeof this.worker.cpuUsage !== "function") return;
        polling = true;
        this.worker.cpuUsage().then(
          ({ user, system }) => {
            polling = false;
            const cpu = (user + system) / 1000;
            cpuStart ??= cpu;
            if (cpu - cpuStart > this.limits.cpuMs + CPU_GRACE_MS) this.end("cpu");
          },
          () => undefined,
        );
      }, POLL_MS);
      const wall = setTimeout(() => this.end("wall"), this.limits.timeoutMs + GRACE_MS);
      const done = () => {
        clearInterval(poll);
        clearTimeout(wall);
      };
      this.pending = {
        phase,
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      this.worker.postMessage(message(req));
    });
  }

  private onMessage(message: ThreadUp): void {
    if (this.dead && message.t !== "fail") return;
    if (message.t === "ready") {
      this.settle((p) => p.resolve(undefined));
      return;
    }
    if (message.t === "call") {
      if (++this.waitingCalls > MAX_OUTSTANDING) {
        this.end("flood");
        return;
      }
      const { id } = message;
      void forwardRequest(this.hostCall, message.fd, message.op, message.argsJson).then((json) => {
        this.waitingCalls--;
        if (!this.dead) this.worker.postMessage({ t: "reply", id, json } satisfies ThreadDown);
      });
      return;
    }
    if (message.dead) this.reportedDead = true;
    if (message.t === "done") this.settle((p) => p.resolve(message.value));
    else this.settle((p) => p.reject(threadError(message.error, p.phase)));
  }

  private settle(answer: (pending: Pending) => void): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) answer(pending);
  }

  /** Ends the thread once, and answers the phase in flight from the one cause. */
  private end(reason: KillReason): void {
    if (this.killed !== undefined) return;
    this.killed = reason;
    void this.worker.terminate();
    this.settle((p) =>
      p.reject(
        reason === "crash"
          ? new WardenError(
              "SANDBOX_CRASHED",
              `the sandbox's thread ended during ${p.phase === "load" ? "loading the tool" : "the tool call"}; the next call starts a fresh one`,
            )
          : limitError(reason, p.phase, this.limits),
      ),
    );
  }
}

/** An error the thread reports: a guest's claim stays a claim (runtime/tool.ts decides whether to believe it). */
function threadError(failure: ThreadFailure, phase: "load" | "call"): Error {
  if (failure.guest) return new GuestReportedError(failure.code, failure.message);
  if (isErrorCode(failure.code)) return new WardenError(failure.code, failure.message);
  if (phase === "call") return new GuestReportedError(failure.code, failure.message);
  return new WardenError("INTERNAL", "a sandbox thread reported an unexpected error");
}

/**
 * `engine` (a backend folder under runtime/isolates/, as cells find it) with each sandbox in a worker thread
 * of its own. Same name as the engine: callers see the same backend, off the kernel's thread.
 */
export function threadBackend(engine: string): Backend {
  return {
    name: engine,
    create: ({ limits, hostCall }) => ThreadSandbox.create(engine, limits, hostCall),
  };
}
