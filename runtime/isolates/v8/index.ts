// The V8 backend: each sandbox is a fresh isolated-vm isolate started from a snapshot of the guest runtime.
import ivm from "isolated-vm";
import { WardenError } from "../../errors.ts";
import { forwardRequest, MAX_OUTSTANDING, MAX_SOURCE_CHARS, sandboxSeed } from "../bounds.ts";
import { SecondContextChecker } from "../checker.ts";
import { ALLOWED_IMPORTS } from "../prelude.ts";
import { parseDescription, parseEnvelope } from "../results.ts";
import { IsolateSupervisor, type Phase, preludeSnapshot } from "../supervisor.ts";
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

type Ref = ivm.Reference<(...args: unknown[]) => unknown>;

class V8Sandbox implements Sandbox {
  private readonly isolate: ivm.Isolate;
  private readonly context: ivm.Context;
  private readonly limits: Limits;
  private readonly refs: { run: Ref; reply: Ref; describe: Ref; registered: Ref };
  private readonly checker: SecondContextChecker;
  private readonly supervisor: IsolateSupervisor;
  private outstanding = 0;

  constructor(
    isolate: ivm.Isolate,
    context: ivm.Context,
    limits: Limits,
    refs: V8Sandbox["refs"],
    supervisor: IsolateSupervisor,
  ) {
    this.isolate = isolate;
    this.context = context;
    this.limits = limits;
    this.refs = refs;
    this.supervisor = supervisor;
    this.checker = new SecondContextChecker(isolate, () => this.dead);
  }

  static async create(limits: Limits, hostCall: HostCall): Promise<V8Sandbox> {
    let sandbox: V8Sandbox | undefined;
    let supervisor: IsolateSupervisor | undefined;
    const isolate = new ivm.Isolate({
      memoryLimit: limits.memoryMb,
      snapshot: preludeSnapshot(),
      // V8 gave up on this isolate. Recorded so callers get SANDBOX_CRASHED; cells keep the process safe.
      onCatastrophicError: () => supervisor?.markCrashed(),
    });
    supervisor = new IsolateSupervisor(isolate, limits);
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
    const refs = {
      run: ref("run"),
      reply: ref("reply"),
      describe: ref("describe"),
      registered: ref("registered"),
    };
    // The sandbox's own random seed and clock (sdk/guest/globals/), before any tool code runs.
    ref("start").applySync(undefined, [sandboxSeed(), Date.now()], { arguments: { copy: true } });
    sandbox = new V8Sandbox(isolate, context, limits, refs, supervisor);
    return sandbox;
  }

  get dead(): boolean {
    return this.supervisor.dead;
  }

  private onRequest(id: unknown, fd: unknown, op: unknown, argsJson: unknown, hostCall: HostCall): void {
    // Guest code runs only inside a guarded phase; a request from anywhere else is a bug or an attack.
    const phase = this.supervisor.phase;
    if (this.dead || !phase || typeof id !== "number") return;
    if (++this.outstanding > MAX_OUTSTANDING) {
      this.supervisor.kill("flood");
      return;
    }
    void forwardRequest(hostCall, fd, op, argsJson).then((json) => {
      this.outstanding--;
      if (!this.dead && this.supervisor.phase === phase) {
        this.refs.reply.applyIgnored(undefined, [id, json], { arguments: { copy: true } });
      }
    });
  }

  /** A load or call under the sandbox's limits; a fresh count of the requests the phase may have waiting. */
  private guarded<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    this.outstanding = 0;
    return this.supervisor.run(phase, work);
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
      // isolated-vm's evaluate returns before a top-level await that waits on the host (a timer's turn)
      // is over, and gives no handle on the module's promise: the module has run once it registered its
      // tool. (One that throws after such an await is never registered: its load ends on the wall limit.)
      await this.refs.registered.apply(undefined, [], { result: { promise: true } });
      return parseDescription(
        String(await this.refs.describe.apply(undefined, [], { result: { copy: true } })),
      );
    });
  }

  async run(inputJson: string, handlesJson: string, outputSchemaJson: string): Promise<RunOutcome> {
    return this.guarded("call", async () => {
      // The time the guest sees throughout the call (sdk/guest/globals/clock.ts).
      const envelope = await this.refs.run.apply(undefined, [inputJson, handlesJson, Date.now()], {
        arguments: { copy: true },
        result: { promise: true, copy: true },
      });
      const outputJson = parseEnvelope(envelope, this.limits);
      // In a second context, which the tool's code never ran in (see checker.ts).
      const problem = await this.checker.check(outputSchemaJson, outputJson);
      if (problem)
        throw new WardenError(
          "INVALID_OUTPUT",
          `the tool's output does not match its output schema: ${problem}`,
        );
      return { outputJson, usage: this.usage(false) };
    });
  }

  usage(withHeap = true): Usage {
    return this.supervisor.usage(withHeap);
  }

  async dispose(): Promise<void> {
    await this.supervisor.dispose();
  }
}

export const v8Backend: Backend = {
  name: "v8",
  create: ({ limits, hostCall }) => V8Sandbox.create(limits, hostCall),
};
