// The WebAssembly component backend: a component, transpiled by jco, runs inside its own isolated-vm isolate,
// its core modules bounded in memory, every import a call through the kernel's gate.
import { readFileSync } from "node:fs";
import ivm from "isolated-vm";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { decode, encode, type Reply } from "../../protocol/codec.ts";
import { MAX_JSON_DEPTH, valueTooDeep } from "../../protocol/depth.ts";
import { MAX_REQUEST_CHARS } from "../bounds.ts";
import { SecondContextChecker } from "../checker.ts";
import { GuestReportedError, limitError, parseEnvelope } from "../results.ts";
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
import { checkDeclared } from "./imports.ts";
import { boundModules } from "./memory.ts";
import { unpackComponent } from "./prepare.ts";

let runner: string | undefined;
/** The runner (guest/runner.ts with the codec it imports), bundled by scripts/build-prelude.ts. */
function runnerSource(): string {
  if (runner === undefined) {
    try {
      runner = readFileSync(new URL("../../../dist/wasm-runner.js", import.meta.url), "utf8");
    } catch {
      throw new WardenError("INTERNAL", "dist/wasm-runner.js is missing: run `npm run build`");
    }
  }
  return runner;
}

/** Stands in for arguments too deep to encode: the kernel refuses it unread, for its depth. */
const TOO_DEEP = "[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1);

const ENTRY = `import { instantiate } from "glue"; globalThis.__wardenRunner.start(instantiate);`;

const resultSchema = z.discriminatedUnion("ok", [
  z.strictObject({ ok: z.literal(true), outputText: z.string() }),
  z.strictObject({
    ok: z.literal(false),
    trapped: z.enum(["memory", "trap"]).optional(),
    error: z.strictObject({ code: z.string(), message: z.string() }),
  }),
]);

type Ref = ivm.Reference<(...args: unknown[]) => unknown>;

class WasmSandbox implements Sandbox {
  private readonly isolate: ivm.Isolate;
  private readonly context: ivm.Context;
  private readonly limits: Limits;
  private readonly hostCall: HostCall;
  private refs: { describe: Ref; run: Ref } | undefined;
  private readonly checker: SecondContextChecker;
  private inputSchemaJson = "{}";
  private readonly supervisor: IsolateSupervisor;
  /** The component trapped: its instance may not be entered again, so the tool's next call gets a fresh sandbox. */
  private trapped = false;

  constructor(
    isolate: ivm.Isolate,
    context: ivm.Context,
    limits: Limits,
    hostCall: HostCall,
    supervisor: IsolateSupervisor,
  ) {
    this.isolate = isolate;
    this.context = context;
    this.limits = limits;
    this.hostCall = hostCall;
    this.supervisor = supervisor;
    this.checker = new SecondContextChecker(isolate, () => this.dead);
  }

  static async create(limits: Limits, hostCall: HostCall): Promise<WasmSandbox> {
    let supervisor: IsolateSupervisor | undefined;
    const isolate = new ivm.Isolate({
      memoryLimit: limits.memoryMb,
      snapshot: preludeSnapshot(),
      onCatastrophicError: () => supervisor?.markCrashed(),
    });
    supervisor = new IsolateSupervisor(isolate, limits);
    return new WasmSandbox(isolate, await isolate.createContext(), limits, hostCall, supervisor);
  }

  get dead(): boolean {
    return this.trapped || this.supervisor.dead;
  }

  /**
   * The component's imports, called synchronously from inside the isolate (applySyncPromise): the isolate's
   * thread waits while the kernel works on the host's event loop, which stays free. Never rejects.
   */
  private async onRequest(fd: unknown, op: unknown, args: unknown): Promise<Reply> {
    if (this.dead || !this.supervisor.phase)
      return refusal("CAPABILITY_DENIED", "handles can be used only while the tool runs");
    if (typeof fd !== "number" || typeof op !== "string")
      return refusal("INVALID_ARGUMENT", "malformed handle call");
    // Too deep to encode safely: a stand-in as deep crosses instead, so the kernel refuses and audits the call.
    const argsJson = valueTooDeep(args) ? TOO_DEEP : encode(args);
    if (argsJson.length > MAX_REQUEST_CHARS)
      return refusal("INVALID_ARGUMENT", "handle call arguments are over 16 MiB");
    return decode(await this.hostCall(fd, op, argsJson)) as Reply;
  }

  private guarded<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    return this.supervisor.run(phase, work);
  }

  async load(module: SandboxModule): Promise<RawDescriptor> {
    // Checked and transpiled by the host already (prepare.ts, called by runtime.ts when it read the .wasm file).
    const prepared = unpackComponent(module.source, module.filename);
    const names = [...prepared.modules.keys()];
    // Bounded here, at every load, by this sandbox's own memory limit.
    const bounded = boundModules([...prepared.modules.values()], this.limits.memoryMb);
    const raw = await this.guarded("load", async () => {
      const global = this.context.global;
      // All modules in one buffer, moved (not copied) into the isolate; `index` says where each one is.
      const all = new Uint8Array(bounded.modules.reduce((n, m) => n + m.length, 0));
      const index: Record<string, [number, number]> = {};
      const maxima: Record<string, number> = {};
      let at = 0;
      names.forEach((name, i) => {
        const bytes = bounded.modules[i]!;
        all.set(bytes, at);
        index[name] = [at, bytes.length];
        at += bytes.length;
        const own = bounded.maxima[i]!;
        if (own.length === 1) maxima[name] = own[0]!;
      });
      await global.set(
        "__wardenHost",
        // applySyncPromise takes no result options: the reply is handed over as a copy (bytes stay bytes).
        new ivm.Reference(async (fd: unknown, op: unknown, args: unknown) =>
          new ivm.ExternalCopy(await this.onRequest(fd, op, args)).copyInto({ release: true }),
        ),
      );
      await global.set(
        "__wardenModules",
        new ivm.ExternalCopy(all.buffer, { transferOut: true }).copyInto({ release: true, transferIn: true }),
      );
      await global.set("__wardenIndex", new ivm.ExternalCopy(index).copyInto({ release: true }));
      await global.set("__wardenMaxima", new ivm.ExternalCopy(maxima).copyInto({ release: true }));
      const run = await this.isolate.compileModule(runnerSource(), { filename: "warden:wasm-runner" });
      await run.instantiate(this.context, () => {
        throw new Error("the runner imports nothing");
      });
      await run.evaluate();
      const glue = await this.isolate.compileModule(prepared.glue, { filename: "component:///glue.js" });
      if (glue.dependencySpecifiers.length > 0) {
        throw new WardenError(
          "LOAD_ERROR",
          "the component's glue imports modules; it must take everything as imports",
        );
      }
      const entry = await this.isolate.compileModule(ENTRY, { filename: "warden:wasm-entry" });
      await entry.instantiate(this.context, (specifier) => {
        if (specifier === "glue") return glue;
        throw new Error(`cannot import "${specifier}"`);
      });
      await entry.evaluate();
      const warden = (await global.get("__wardenRunner", { reference: true })) as ivm.Reference<
        Record<string, unknown>
      >;
      this.refs = {
        describe: (await warden.get("describe", { reference: true })) as Ref,
        run: (await warden.get("run", { reference: true })) as Ref,
      };
      return String(await this.refs.describe.apply(undefined, [], { result: { copy: true } }));
    });
    let descriptor: unknown;
    try {
      descriptor = JSON.parse(raw);
    } catch {
      throw new WardenError("LOAD_ERROR", "the component's describe() did not return JSON");
    }
    checkDeclared(new Set(prepared.types), descriptor);
    const { inputSchema, outputSchema } = (descriptor ?? {}) as {
      inputSchema?: unknown;
      outputSchema?: unknown;
    };
    this.inputSchemaJson = JSON.stringify(inputSchema ?? {});
    // Both checkers are built now, off the host's thread and within the load's limits, so a call's checks
    // are quick enough for the host's thread (and a timeout never stops one half-built).
    await this.guarded("load", async () => {
      for (const schema of [this.inputSchemaJson, JSON.stringify(outputSchema ?? {})]) {
        await this.checker.prepare(schema);
      }
    });
    return descriptor;
  }

  async run(inputJson: string, handlesJson: string, outputSchemaJson: string): Promise<RunOutcome> {
    return this.guarded("call", async () => {
      if (!this.refs) throw new WardenError("SANDBOX_CRASHED", "the component was not loaded");
      // A component has no schema library of its own to trust: its input is checked here, by the host's rules.
      const bad = await this.check(this.inputSchemaJson, inputJson);
      if (bad) throw new WardenError("INVALID_INPUT", bad);
      const text = await this.refs.run.apply(undefined, [inputJson, handlesJson], {
        arguments: { copy: true },
        result: { copy: true },
      });
      const outputJson = this.output(text);
      const problem = await this.check(outputSchemaJson, outputJson);
      if (problem) {
        throw new WardenError(
          "INVALID_OUTPUT",
          `the tool's output does not match its output schema: ${problem}`,
        );
      }
      return { outputJson, usage: this.usage() };
    });
  }

  /** The run's result as output JSON, or the error it reports; a trap ends this sandbox (an instance that trapped may not be re-entered). */
  private output(text: unknown): string {
    if (typeof text !== "string" || text.length > this.limits.outputKb * 1024 * 2 + 1024) {
      return parseEnvelope(text, this.limits);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = undefined;
    }
    const parsed = resultSchema.safeParse(raw);
    if (!parsed.success) throw new WardenError("TOOL_ERROR", "the component returned a malformed result");
    const result = parsed.data;
    if (!result.ok) {
      if (result.trapped) {
        this.trapped = true;
        if (result.trapped === "memory") throw limitError("memory", "call", this.limits);
        throw new WardenError("TOOL_ERROR", `the component trapped: ${result.error.message}`);
      }
      throw new GuestReportedError(result.error.code, result.error.message);
    }
    if (result.outputText.length > this.limits.outputKb * 1024 + 64)
      return parseEnvelope(result.outputText, this.limits);
    try {
      JSON.parse(result.outputText);
    } catch {
      throw new WardenError("TOOL_ERROR", "the component's run returned text that is not JSON");
    }
    // A single valid JSON value cannot break out of the envelope around it.
    return parseEnvelope(`{"ok":true,"output":${result.outputText}}`, this.limits);
  }

  /** Checks a value against a JSON Schema in a second context, where no component code ever ran. */
  private check(schemaJson: string, valueJson: string): Promise<string> {
    return this.checker.check(schemaJson, valueJson);
  }

  private usage(): Usage {
    return this.supervisor.usage(false);
  }

  async dispose(): Promise<void> {
    await this.supervisor.dispose();
  }
}

function refusal(code: string, message: string): Reply {
  return { ok: false, error: { code, message } };
}

export const wasmBackend: Backend = {
  name: "wasm",
  create: ({ limits, hostCall }) => WasmSandbox.create(limits, hostCall),
};
