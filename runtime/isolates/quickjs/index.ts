// The QuickJS backend: each sandbox is a QuickJS runtime in its own WebAssembly instance (an interpreter
// inside a WebAssembly sandbox), started from a memory image of the guest runtime (see image.ts).
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten";
import { WardenError } from "../../errors.ts";
import { forwardRequest, MAX_OUTSTANDING, MAX_SOURCE_CHARS, sandboxSeed } from "../bounds.ts";
import { limitError, parseDescription, parseEnvelope, phaseError } from "../results.ts";
import type {
  Backend,
  HostCall,
  Limits,
  RawDescriptor,
  RunOutcome,
  Sandbox,
  SandboxModule,
  Usage,
} from "../types.ts";
import { type Engine, startEngine } from "./image.ts";
import { ImportGate } from "./imports.ts";
import { guestText, stackOverflow } from "./values.ts";

/**
 * QuickJS's own stack limit. Its frames run as WebAssembly frames on the host thread's stack, so the limit
 * must trip before V8's does: at 256 KiB QuickJS stops plain recursion at about 1,400 calls, well inside
 * Node's stack. A builtin that recurses past V8's stack first (a deeply nested JSON.parse) gets the
 * host's RangeError, and the sandbox is discarded (see `section`).
 */
const MAX_STACK_BYTES = 256 * 1024;

type KillReason = "wall" | "cpu" | "memory" | "flood" | "crash";
type Phase = { phase: "load" | "call"; answer: (error: WardenError) => void };

/** A guest exception, already turned into text inside a guarded section. */
class GuestThrew extends Error {}

class QuickJSSandbox implements Sandbox {
  private readonly engine: Engine;
  private readonly limits: Limits;
  private readonly fns: {
    run: QuickJSHandle;
    reply: QuickJSHandle;
    describe: QuickJSHandle;
    register: QuickJSHandle;
    check: QuickJSHandle;
  };
  private killed: KillReason | undefined;
  /** A host-level exception left the instance mid-instruction: it is never entered again. */
  private broken = false;
  private disposed = false;
  private outstanding = 0;
  private startedAt = performance.now();
  /** CPU time of this thread spent in the running phase's sections, in ms: the guest's CPU time. */
  private cpuUsed = 0;
  private wallDeadline = Number.POSITIVE_INFINITY;
  /** The thread's CPU clock when the section now running began (undefined outside sections). */
  private sectionCpuStart: number | undefined;
  private interrupted: "wall" | "cpu" | "memory" | undefined;
  private current: Phase | undefined;
  /** Replies that arrived for the running phase, delivered by its pump and only inside a section. */
  private readonly inbox: Array<{ id: number; json: string }> = [];
  private wake: (() => void) | undefined;
  private readonly imports = new ImportGate();

  private constructor(engine: Engine, limits: Limits, fns: QuickJSSandbox["fns"]) {
    this.engine = engine;
    this.limits = limits;
    this.fns = fns;
  }

  static async create(limits: Limits, hostCall: HostCall): Promise<QuickJSSandbox> {
    const engine = await startEngine(limits.memoryMb);
    const { runtime, tool, checker } = engine;
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    // Below the 16 MiB floor of the instance's cap, QuickJS's own accounting holds the limit (its refusal
    // then reaches the tool as an out-of-memory error); above it, the instance's cap trips first.
    runtime.setMemoryLimit(limits.memoryMb * 1024 * 1024);
    const warden = tool.getProp(tool.global, "__warden");
    const checkerWarden = checker.getProp(checker.global, "__warden");
    const fns = {
      run: tool.getProp(warden, "run"),
      reply: tool.getProp(warden, "reply"),
      describe: tool.getProp(warden, "describe"),
      register: tool.getProp(warden, "register"),
      check: checker.getProp(checkerWarden, "checkOutput"),
    };
    const connect = tool.getProp(warden, "connect");
    const start = tool.getProp(warden, "start");
    warden.dispose();
    checkerWarden.dispose();
    const sandbox = new QuickJSSandbox(engine, limits, fns);
    runtime.setInterruptHandler(() => sandbox.shouldInterrupt());
    runtime.setModuleLoader(
      (name) => sandbox.imports.source(name),
      (_base, requested) => sandbox.imports.resolve(requested),
    );
    const send = tool.newFunction("send", (id, fd, op, args) => {
      sandbox.onRequest(tool, [id, fd, op, args], hostCall);
    });
    const connected = tool.callFunction(connect, tool.undefined, send);
    send.dispose();
    connect.dispose();
    // The sandbox's own random seed and clock (sdk/guest/globals/): every sandbox starts from one image.
    const args = [tool.newString(sandboxSeed()), tool.newNumber(Date.now())];
    const started = tool.callFunction(start, tool.undefined, ...args);
    for (const arg of args) arg.dispose();
    start.dispose();
    for (const result of [connected, started]) {
      if (result.error) {
        result.error.dispose();
        throw new WardenError("INTERNAL", "the QuickJS guest runtime refused its kernel channel");
      }
      result.value.dispose();
    }
    return sandbox;
  }

  get dead(): boolean {
    return this.killed !== undefined || this.broken || this.disposed;
  }

  // --- limits -------------------------------------------------------------------------------------------

  /**
   * Called by QuickJS every few thousand instructions, and in regexp backtracking. The guest runs on the
   * host's thread, so no timer can fire while it runs: this is the only thing that stops a busy guest.
   */
  private shouldInterrupt(): boolean {
    if (this.engine.memory.refused > 0) this.interrupted ??= "memory";
    else if (performance.now() > this.wallDeadline) this.interrupted ??= "wall";
    else if (this.cpuUsed + threadCpuMs() - (this.sectionCpuStart ?? 0) > this.limits.cpuMs)
      this.interrupted ??= "cpu";
    return this.interrupted !== undefined;
  }

  /**
   * Runs guest code synchronously under the phase's limits. Every entry into the guest goes through here.
   * A limit found afterwards kills the sandbox even if the guest caught the error: a builtin QuickJS cannot
   * interrupt (a huge BigInt) is judged by the time it took.
   */
  private section<T>(work: () => T): T {
    if (this.dead) throw this.deathError();
    const cpuStart = threadCpuMs();
    this.sectionCpuStart = cpuStart;
    try {
      return work();
    } catch (error) {
      if (error instanceof GuestThrew || error instanceof WardenError) throw error;
      // Only the host throws through the instance (V8's stack guard, a trap, an engine abort); the
      // instance stopped mid-instruction, so its state is unknown and it is never entered again.
      this.broken = true;
      if (stackOverflow(error)) {
        throw new WardenError(
          "TOOL_ERROR",
          "RangeError: Maximum call stack size exceeded (the sandbox was discarded; the next call gets a fresh one)",
        );
      }
      this.kill("crash");
      throw this.deathError();
    } finally {
      this.cpuUsed += threadCpuMs() - cpuStart;
      this.sectionCpuStart = undefined;
      const over =
        this.interrupted ??
        (this.engine.memory.refused > 0
          ? "memory"
          : performance.now() > this.wallDeadline
            ? "wall"
            : this.cpuUsed > this.limits.cpuMs
              ? "cpu"
              : undefined);
      if (over) this.kill(over);
    }
  }

  private kill(reason: KillReason): void {
    this.killed ??= reason;
    this.wake?.();
    if (this.current) this.current.answer(limitError(this.killed, this.current.phase, this.limits));
  }

  private deathError(): WardenError {
    if (this.killed !== undefined) return limitError(this.killed, this.current?.phase ?? "call", this.limits);
    return new WardenError("SANDBOX_CRASHED", "the sandbox is no longer running");
  }

  /** Runs `work` as a phase: a wall-time timer for the time the guest waits on the host, and one caller to answer. */
  private async guarded<T>(phase: "load" | "call", work: () => Promise<T>): Promise<T> {
    if (this.dead) throw new WardenError("SANDBOX_CRASHED", "the sandbox is no longer running");
    this.startedAt = performance.now();
    this.wallDeadline = this.startedAt + this.limits.timeoutMs;
    this.cpuUsed = 0;
    this.outstanding = 0;
    this.interrupted = undefined;
    this.inbox.length = 0;
    const killed = new Promise<never>((_, reject) => {
      this.current = { phase, answer: reject };
    });
    // Fires only while the guest waits for the host (a sleep, a slow fetch); a busy guest is stopped by
    // the interrupt handler instead, since it holds the thread this timer needs.
    const timer = setTimeout(() => this.kill("wall"), this.limits.timeoutMs);
    const running = work();
    try {
      return await Promise.race([running, killed]);
    } catch (error) {
      throw phaseError(error, phase, this.killed, this.limits);
    } finally {
      clearTimeout(timer);
      this.current = undefined;
      this.inbox.length = 0;
      running.catch(() => undefined);
    }
  }

  // --- the kernel channel ------------------------------------------------------------------------------

  private onRequest(context: QuickJSContext, args: QuickJSHandle[], hostCall: HostCall): void {
    // Guest code runs only inside a guarded phase; a request from anywhere else is a bug or an attack.
    const phase = this.current;
    if (this.dead || !phase) return;
    // Only typeof-checked numbers and strings are read: reading anything else could run guest code here.
    const [id, fd, op, argsJson] = args.map((handle) => readPlain(context, handle));
    if (typeof id !== "number") return;
    if (++this.outstanding > MAX_OUTSTANDING) {
      this.kill("flood");
      return;
    }
    void forwardRequest(hostCall, fd, op, argsJson).then((json) => {
      this.outstanding--;
      // Only the phase that asked is answered: a reply delivered after it ended would run guest code
      // (the awaiting continuation) outside every limit.
      if (this.dead || this.current !== phase) return;
      this.inbox.push({ id, json });
      this.wake?.();
    });
  }

  /** Runs the guest until `promise` settles: its jobs, then each reply as it arrives, each in a section. */
  private async settle(context: QuickJSContext, promise: QuickJSHandle): Promise<QuickJSHandle> {
    for (;;) {
      this.section(() => this.drainJobs());
      const state = context.getPromiseState(promise);
      if (state.type === "fulfilled") return state.value;
      if (state.type === "rejected") {
        const text = this.section(() => guestText(context, state.error));
        state.error.dispose();
        throw new GuestThrew(text);
      }
      if (this.inbox.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
      if (this.dead) throw this.deathError();
      for (let next = this.inbox.shift(); next; next = this.inbox.shift()) {
        const { id, json } = next;
        this.section(() => this.callGuest(context, this.fns.reply, [id, json]).dispose());
      }
    }
  }

  private drainJobs(): void {
    while (this.engine.runtime.hasPendingJob()) {
      const result = this.engine.runtime.executePendingJobs();
      // A job that threw (an interrupt, or out of memory) ends the drain when a limit is behind it;
      // otherwise the exception belonged to the guest and the remaining jobs still run.
      if (result.error) {
        result.error.dispose();
        if (this.interrupted || this.engine.memory.refused > 0) return;
      }
    }
  }

  /** Calls a guest function with string and number arguments; a guest exception becomes GuestThrew. */
  private callGuest(context: QuickJSContext, fn: QuickJSHandle, args: Array<string | number>): QuickJSHandle {
    const handles = args.map((a) => (typeof a === "number" ? context.newNumber(a) : context.newString(a)));
    const result = context.callFunction(fn, context.undefined, ...handles);
    for (const handle of handles) handle.dispose();
    if (result.error) {
      const text = guestText(context, result.error);
      result.error.dispose();
      throw new GuestThrew(text);
    }
    return result.value;
  }

  // --- the Sandbox interface ----------------------------------------------------------------------------

  async load(module: SandboxModule): Promise<RawDescriptor> {
    if (module.source.length > MAX_SOURCE_CHARS) {
      throw new WardenError(
        "LOAD_ERROR",
        `the tool file is over ${MAX_SOURCE_CHARS >> 20} MiB; a tool must be smaller`,
      );
    }
    return this.guarded("load", async () => {
      const { tool } = this.engine;
      // Linking resolves every static import before any tool code runs; a refused one fails the load.
      const evaluated = this.imports.linkWith(() =>
        this.section(() =>
          tool.evalCode(module.source, `tool:///${module.filename}`, { type: "module", strict: true }),
        ),
      );
      const refusal = this.imports.refusal();
      if (refusal) {
        (evaluated.error ?? evaluated.value).dispose();
        throw refusal;
      }
      if (evaluated.error) {
        const text = this.section(() => guestText(tool, evaluated.error));
        evaluated.error.dispose();
        throw new GuestThrew(text);
      }
      const namespace = await this.settle(tool, evaluated.value);
      try {
        this.section(() => {
          const exported = tool.getProp(namespace, "default");
          const registered = tool.callFunction(this.fns.register, tool.undefined, exported);
          exported.dispose();
          if (registered.error) {
            const text = guestText(tool, registered.error);
            registered.error.dispose();
            throw new GuestThrew(text);
          }
          registered.value.dispose();
        });
      } finally {
        if (namespace !== evaluated.value) namespace.dispose();
        evaluated.value.dispose();
      }
      const described = this.section(() => this.callGuest(tool, this.fns.describe, []));
      const text = tool.typeof(described) === "string" ? tool.getString(described) : "";
      described.dispose();
      return parseDescription(text);
    });
  }

  async run(inputJson: string, handlesJson: string, outputSchemaJson: string): Promise<RunOutcome> {
    return this.guarded("call", async () => {
      const { tool, checker } = this.engine;
      // Date.now(): the time the guest sees throughout the call (sdk/guest/globals/clock.ts).
      const promise = this.section(() =>
        this.callGuest(tool, this.fns.run, [inputJson, handlesJson, Date.now()]),
      );
      let envelope: string | undefined;
      try {
        const value = await this.settle(tool, promise);
        envelope = tool.typeof(value) === "string" ? tool.getString(value) : undefined;
        if (value !== promise) value.dispose();
      } finally {
        promise.dispose();
      }
      const outputJson = parseEnvelope(envelope, this.limits);
      // Checked in the second context, which no tool code ever ran in, under this sandbox's limits.
      const problem = this.section(() => {
        const result = this.callGuest(checker, this.fns.check, [outputSchemaJson, outputJson]);
        const text =
          checker.typeof(result) === "string" ? checker.getString(result) : "the output check failed";
        result.dispose();
        return text;
      });
      if (problem)
        throw new WardenError(
          "INVALID_OUTPUT",
          `the tool's output does not match its output schema: ${problem}`,
        );
      return { outputJson, usage: this.usage() };
    });
  }

  usage(): Usage {
    return {
      cpuMs: this.cpuUsed,
      wallMs: performance.now() - this.startedAt,
      heapBytes: this.engine.memory.buffer.byteLength,
    };
  }

  /**
   * Nothing to wait for: the guest never runs outside a section, and sections are synchronous. The
   * instance is not torn down inside (freeing a runtime asserts every value was released); dropping it
   * frees its memory whole.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.wake?.();
  }
}

/**
 * This thread's CPU time in ms. The guest runs on this thread, so a section's share of it is the guest's
 * CPU time; wall time would charge the guest for the host being descheduled on a busy machine.
 */
function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
}

/** A number or string argument from the guest; anything else reads as undefined without running guest code. */
function readPlain(context: QuickJSContext, handle: QuickJSHandle): number | string | undefined {
  const type = context.typeof(handle);
  if (type === "number") return context.getNumber(handle);
  if (type === "string") return context.getString(handle);
  return undefined;
}

export const quickjsBackend: Backend = {
  name: "quickjs",
  create: ({ limits, hostCall }) => QuickJSSandbox.create(limits, hostCall),
};
