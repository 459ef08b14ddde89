// The V8 backend: each sandbox is a fresh isolated-vm isolate started from a snapshot of the guest runtime.
import ivm from "isolated-vm";
import { WardenError } from "../../errors.ts";
import { ALLOWED_IMPORTS, preludeSource } from "../prelude.ts";
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
import { type LimitKind, watch } from "../watchdog.ts";
import { GuestReportedError, limitError, parseEnvelope } from "./results.ts";

/** Largest request a guest may send in one handle call; bigger ones are refused before decoding. */
const MAX_REQUEST_CHARS = 16 << 20;
/**
 * Requests received but not yet answered. The guest runtime keeps far fewer in flight, so more means the
 * guest subverted it to flood the host's queue: the sandbox is killed.
 */
const MAX_OUTSTANDING = 256;
/** Largest tool module accepted; it is compiled on the host's thread. */
const MAX_SOURCE_CHARS = 16 << 20;
/** How long an output check may run on the host's thread before it is redone on isolated-vm's pool. */
const SYNC_CHECK_MS = 5;
/** How long dispose() waits for a killed isolate's thread to finish what V8 could not interrupt. */
const DISPOSE_WAIT_MS = 10_000;

let snapshot: ivm.ExternalCopy<ArrayBuffer> | undefined;

/** One snapshot per process: parsing and running zod once instead of once per sandbox. */
function preludeSnapshot(): ivm.ExternalCopy<ArrayBuffer> {
  snapshot ??= ivm.Isolate.createSnapshot([{ code: preludeSource(), filename: "warden:prelude" }]);
  return snapshot;
}

type Ref = ivm.Reference<(...args: unknown[]) => unknown>;

class V8Sandbox implements Sandbox {
  private readonly isolate: ivm.Isolate;
  private readonly context: ivm.Context;
  private readonly limits: Limits;
  private readonly refs: { run: Ref; reply: Ref; describe: Ref };
  private checker: Ref | undefined;
  /** Why the isolate was killed, if it was; turns the error its callers see into the right code. */
  private killed: LimitKind | "memory" | "flood" | "crash" | undefined;
  private outstanding = 0;
  private startedAt = performance.now();

  constructor(isolate: ivm.Isolate, context: ivm.Context, limits: Limits, refs: V8Sandbox["refs"]) {
    this.isolate = isolate;
    this.context = context;
    this.limits = limits;
    this.refs = refs;
  }

  static async create(limits: Limits, hostCall: HostCall): Promise<V8Sandbox> {
    let sandbox: V8Sandbox | undefined;
    const isolate = new ivm.Isolate({
      memoryLimit: limits.memoryMb,
      snapshot: preludeSnapshot(),
      // V8 gave up on this isolate. Recorded so callers get SANDBOX_CRASHED; cells (a later layer) keep the process safe.
      onCatastrophicError: () => sandbox?.markCrashed(),
    });
    // Setting up runs no tool code, so it uses isolated-vm's synchronous calls: each asynchronous one is a
    // thread-pool round trip, and together they cost more than the isolate itself.
    const context = isolate.createContextSync();
    const global = context.global;
    const send = new ivm.Callback(
      (id: unknown, fd: unknown, op: unknown, argsJson: unknown) =>
        sandbox?.onRequest(id, fd, op, argsJson, hostCall),
      { ignored: true },
    );
    global.setSync("__wardenSend", send);
    context.evalSync(
      "__warden.setupContext(); __warden.connect(globalThis.__wardenSend); delete globalThis.__wardenSend;",
    );
    const warden = global.getSync("__warden", { reference: true }) as ivm.Reference<Record<string, unknown>>;
    const ref = (name: string) => warden.getSync(name, { reference: true }) as Ref;
    const refs = { run: ref("run"), reply: ref("reply"), describe: ref("describe") };
    sandbox = new V8Sandbox(isolate, context, limits, refs);
    return sandbox;
  }

  /** Settles when the isolate's thread is done with the last phase's work. */
  private settled: Promise<void> = Promise.resolve();

  /** The running phase's caller, answered at once if the sandbox is killed mid-phase. */
  private current: { phase: "load" | "call"; answer: (error: WardenError) => void } | undefined;

  private kill(reason: LimitKind | "flood"): void {
    this.killed ??= reason;
    if (!this.isolate.isDisposed) this.isolate.dispose();
    if (this.current) this.current.answer(limitError(this.killed, this.current.phase, this.limits));
  }

  get dead(): boolean {
    return this.killed !== undefined || this.isolate.isDisposed;
  }

  private markCrashed(): void {
    this.killed ??= "crash";
  }

  private onRequest(id: unknown, fd: unknown, op: unknown, argsJson: unknown, hostCall: HostCall): void {
    // Guest code runs only inside a guarded phase; a request from anywhere else is a bug or an attack.
    const phase = this.current;
    if (this.dead || !phase || typeof id !== "number") return;
    if (++this.outstanding > MAX_OUTSTANDING) {
      this.kill("flood");
      return;
    }
    const bad =
      typeof fd !== "number" ||
      typeof op !== "string" ||
      typeof argsJson !== "string" ||
      argsJson.length > MAX_REQUEST_CHARS;
    const reply = bad
      ? Promise.resolve(
          JSON.stringify({
            ok: false,
            error: { code: "INVALID_ARGUMENT", message: "malformed handle call (or over 16 MiB)" },
          }),
        )
      : hostCall(fd as number, op as string, argsJson as string);
    void reply.then((json) => {
      this.outstanding--;
      // Only the phase that asked is answered: a reply delivered after it ended would run guest code
      // (the awaiting continuation) outside every CPU and wall-time limit.
      if (!this.dead && this.current === phase) {
        this.refs.reply.applyIgnored(undefined, [id, json], { arguments: { copy: true } });
      }
    });
  }

  /** Runs `work` under this sandbox's limits; a limit that runs out kills the isolate and becomes LIMIT_EXCEEDED. */
  private async guarded<T>(phase: "load" | "call", work: () => Promise<T>): Promise<T> {
    if (this.dead) throw new WardenError("SANDBOX_CRASHED", "the sandbox is no longer running");
    this.startedAt = performance.now();
    this.outstanding = 0;
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
      const message = error instanceof Error ? error.message : String(error);
      // V8 disposes an isolate on its own only when it passes its memory limit (a fatal error is marked
      // "crash" by onCatastrophicError first). Judged by the isolate's state, never by the message: a guest
      // can throw an error with any text.
      if (this.isolate.isDisposed) this.killed ??= "memory";
      if (this.killed !== undefined) throw limitError(this.killed, phase, this.limits);
      // A guest exception that escaped the prelude (only possible during load): report its message, not its stack.
      throw new WardenError(
        phase === "load" ? "LOAD_ERROR" : "TOOL_ERROR",
        message.split("\n")[0]!.slice(0, 2000),
      );
    } finally {
      dog.stop();
      this.current = undefined;
    }
  }

  async load(module: SandboxModule): Promise<RawDescriptor> {
    if (module.source.length > MAX_SOURCE_CHARS) {
      throw new WardenError(
        "LOAD_ERROR",
        `the tool file is over ${MAX_SOURCE_CHARS >> 20} MiB; a tool must be smaller`,
      );
    }
    return this.guarded("load", async () => {
      // Compiling and linking run no tool code (and the source is capped), so they are synchronous;
      // evaluating the module and describing the tool run tool code, so they are not.
      const tool = this.isolate.compileModuleSync(module.source, { filename: `tool:///${module.filename}` });
      for (const specifier of tool.dependencySpecifiers) {
        if (!ALLOWED_IMPORTS.has(specifier)) {
          throw new WardenError(
            "LOAD_ERROR",
            `the tool imports "${specifier}"; a tool may import only ${[...ALLOWED_IMPORTS.keys()].join(" and ")} (bundle anything else into the tool file)`,
          );
        }
      }
      const entry = this.isolate.compileModuleSync(
        `import tool from "tool"; globalThis.__warden.register(tool);`,
        {
          filename: "warden:entry",
        },
      );
      const builtins = new Map<string, ivm.Module>();
      for (const [specifier, source] of ALLOWED_IMPORTS) {
        builtins.set(specifier, this.isolate.compileModuleSync(source, { filename: `warden:${specifier}` }));
      }
      entry.instantiateSync(this.context, (specifier) => {
        if (specifier === "tool") return tool;
        const builtin = builtins.get(specifier);
        if (!builtin) throw new Error(`cannot import "${specifier}"`);
        return builtin;
      });
      await entry.evaluate({ promise: true });
      return JSON.parse(
        String(await this.refs.describe.apply(undefined, [], { result: { copy: true } })),
      ) as unknown;
    });
  }

  async run(inputJson: string, handlesJson: string, outputSchemaJson: string): Promise<RunOutcome> {
    return this.guarded("call", async () => {
      const envelope = await this.refs.run.apply(undefined, [inputJson, handlesJson], {
        arguments: { copy: true },
        result: { promise: true, copy: true },
      });
      const outputJson = parseEnvelope(envelope, this.limits);
      const problem = await this.checkOutput(outputSchemaJson, outputJson);
      if (problem)
        throw new WardenError(
          "INVALID_OUTPUT",
          `the tool's output does not match its output schema: ${problem}`,
        );
      return { outputJson, usage: this.usage(false) };
    });
  }

  /**
   * Checks the output in a second context of the same isolate: the tool's code never ran there, so it cannot
   * have poisoned the checker, and any cost the schema carries (regexes) is charged to this sandbox's limits.
   */
  private async checkOutput(schemaJson: string, outputJson: string): Promise<string> {
    this.checker ??= this.newChecker();
    const args = [schemaJson, outputJson];
    // Most checks take microseconds: done synchronously, they skip a thread-pool round trip. The short
    // timeout bounds how long a costly schema can hold the host's thread; such a check is redone off it.
    try {
      return String(
        this.checker.applySync(undefined, args, {
          arguments: { copy: true },
          result: { copy: true },
          timeout: SYNC_CHECK_MS,
        }),
      );
    } catch (error) {
      if (this.dead || !(error instanceof Error) || !/timed out/i.test(error.message)) throw error;
      // A check stopped part-way can leave zod half-initialized in its context (later checks then fail
      // with "i.safeParse is not a function"): the retry, and every later check, get a fresh context.
      this.checker = this.newChecker();
    }
    return String(
      await this.checker.apply(undefined, args, { arguments: { copy: true }, result: { copy: true } }),
    );
  }

  private newChecker(): Ref {
    const context = this.isolate.createContextSync();
    const warden = context.global.getSync("__warden", { reference: true }) as ivm.Reference<
      Record<string, unknown>
    >;
    return warden.getSync("checkOutput", { reference: true }) as Ref;
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

export const v8Backend: Backend = {
  name: "v8",
  create: ({ limits, hostCall }) => V8Sandbox.create(limits, hostCall),
};
