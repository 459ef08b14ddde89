// The host embedding API: createRuntime() wires the kernel, the capability kinds and the backends together.

import { mkdirSync } from "node:fs";
import { readFile, realpath } from "node:fs/promises";
import { stripTypeScriptTypes } from "node:module";
import { basename, extname, join, resolve } from "node:path";
import { z } from "zod";
import { Agents } from "./agents/runner.ts";
import { SESSIONS_DB, SqliteSessionStore } from "./agents/sqlite-store.ts";
import { MemorySessionStore, type SessionStore } from "./agents/store.ts";
import { AUDIT_DB } from "./audit/chain.ts";
import { SqliteAuditSink } from "./audit/sqlite-sink.ts";
import { AuditLog, type AuditSink, JsonlAuditSink, MemoryAuditSink } from "./audit.ts";
import { bridgeTo } from "./bridge.ts";
import { createKinds } from "./capabilities/index.ts";
import { type KvStore, MemoryKvStore, SqliteKvStore } from "./capabilities/kv/store.ts";
import type { LogSink } from "./capabilities/log/index.ts";
import type { PriceTable } from "./capabilities/model/budget.ts";
import type { Env } from "./capabilities/model/keys.ts";
import type { LookupFn } from "./capabilities/net/index.ts";
import { type CellOptions, type CellReport, Cells, type Isolation, splitBackend } from "./cells/index.ts";
import { type GrantRequest, matchGrants, parseDescriptor, type ToolDescriptor } from "./descriptor.ts";
import { WardenError } from "./errors.ts";
import { internalReporter } from "./internal.ts";
import { quickjsBackend } from "./isolates/quickjs/index.ts";
import { type Backend, DEFAULT_LIMITS, type Limits, type SandboxModule } from "./isolates/types.ts";
import { v8Backend } from "./isolates/v8/index.ts";
import { wasmBackend } from "./isolates/wasm/index.ts";
import { prepareComponent } from "./isolates/wasm/prepare.ts";
import { Kernel, type KernelQuota, type SandboxRecord } from "./kernel.ts";
import { Tool } from "./tool.ts";

export interface RuntimeOptions {
  /** Relative paths in grants and tool paths resolve against this. Default: process.cwd(). */
  cwd?: string;
  /** Where durable state lives (kv store, audit log). Default: none, everything in memory. */
  stateDir?: string;
  /** Extra audit sinks; an in-memory sink is always kept (see runtime.auditRecords). */
  auditSinks?: AuditSink[];
  /** Where tools' log lines go. Default: stderr. */
  log?: LogSink;
  /** DNS resolver for net handles; injectable for tests. */
  lookup?: LookupFn;
  quota?: Partial<KernelQuota>;
  /** Extra backends by name (v8 is built in). */
  backends?: Backend[];
  /**
   * Where sandboxes run: "cell" (default), supervised child processes, so no tool can take the kernel's
   * process down; or "in-process", for embedders and benchmarks that accept that risk.
   */
  isolation?: Isolation;
  /** Pooling, sharing and hardening of cells. */
  cells?: CellOptions;
  /** Model prices, US dollars per million tokens in and out, per model name: what model cost budgets charge. */
  modelPrices?: PriceTable;
  /** The kernel's environment, where model providers' default keys and base URLs are read. Default: process.env. */
  env?: Env;
}

/** A grant given to a tool, as a spec string in CLI syntax: "fs:read:./data", "net:GET:https://api.example.com", "kv". */
export type GrantInput = string;

export interface LoadOptions {
  grants?: Record<string, GrantInput>;
  limits?: Partial<Limits>;
  /** The backend; "v8:in-process" or "v8:cell" also picks the isolation. */
  backend?: string;
  /** Overrides the runtime's isolation for this tool. */
  isolation?: Isolation;
  /**
   * Called once the tool has defined itself, before it is given any handle: a policy's pin check refuses a
   * changed tool here. `code` is the module's bytes exactly as read, before types were stripped.
   */
  verify?: (tool: { definition: ToolDescriptor; code: Uint8Array }) => void;
}

/** A tool's definition and code bytes, read without granting or calling it (what a policy pin covers). */
export interface InspectedTool {
  definition: ToolDescriptor;
  code: Uint8Array;
}

const limitsSchema = z.strictObject({
  timeoutMs: z.int().min(1).max(3_600_000).optional(),
  cpuMs: z.int().min(1).max(3_600_000).optional(),
  memoryMb: z.int().min(8).max(16_384).optional(),
  outputKb: z.int().min(1).max(1_048_576).optional(),
});

// JSON-quoted, so a tool cannot forge another tool's lines or send terminal escape sequences.
const defaultLog: LogSink = ({ level, message, owner }) =>
  process.stderr.write(`[${owner}] ${level}: ${JSON.stringify(message)}\n`);

export class Runtime {
  readonly kernel: Kernel;
  private readonly memory = new MemoryAuditSink();
  private readonly kv: KvStore;
  private readonly cwd: string;
  private readonly backends = new Map<string, Backend>();
  private readonly tools = new Set<Tool>();
  private readonly cells: Cells;
  readonly isolation: Isolation;
  /** Where agent sessions are journaled: `<state>/sessions.sqlite`, or memory without a state directory. */
  private readonly sessions: SessionStore;
  /** Agents and their sessions (runtime/agents/runner.ts). */
  readonly agents: Agents;

  constructor(options: RuntimeOptions = {}) {
    this.cwd = resolve(options.cwd ?? process.cwd());
    this.isolation = options.isolation ?? "cell";
    this.cells = new Cells(options.cells);
    const sinks: AuditSink[] = [this.memory, ...(options.auditSinks ?? [])];
    if (options.stateDir) {
      mkdirSync(options.stateDir, { recursive: true });
      sinks.push(new JsonlAuditSink(join(options.stateDir, "audit.jsonl")));
      sinks.push(new SqliteAuditSink(join(options.stateDir, AUDIT_DB)));
    }
    this.kv = options.stateDir ? openKvStore(join(options.stateDir, "kv.sqlite")) : new MemoryKvStore();
    this.sessions = options.stateDir
      ? new SqliteSessionStore(join(options.stateDir, SESSIONS_DB))
      : new MemorySessionStore();
    const kinds = createKinds({
      lookup: options.lookup,
      kvStore: this.kv,
      log: options.log ?? defaultLog,
      modelPrices: options.modelPrices,
      env: options.env,
      // Late-bound: the agents need the kernel, which needs the kinds.
      agents: { live: (session) => this.agents.live(session) },
    });
    this.kernel = new Kernel({
      kinds,
      audit: new AuditLog(sinks),
      quota: options.quota,
      internal: internalReporter(options.stateDir),
    });
    for (const backend of [v8Backend, quickjsBackend, wasmBackend, ...(options.backends ?? [])])
      this.backends.set(backend.name, backend);
    this.agents = new Agents({
      kernel: this.kernel,
      store: this.sessions,
      cwd: this.cwd,
      isolation: this.isolation,
      readModule: (path) => this.readModule(path),
      loadModule: (read, options, engine, install) => this.loadModule(read, options, engine, install),
      toolNamed: (name) => this.toolNamed(name),
    });
  }

  /** The newest audit records kept in memory. */
  get auditRecords() {
    return this.memory.records;
  }

  async loadTool(path: string, options: LoadOptions = {}): Promise<Tool> {
    const read = await this.readModule(path);
    return this.loadModule(read, options, engineFor(path, options.backend), async (record, descriptor) => {
      const grants = matchGrants(
        descriptor,
        this.parseGrants(options.grants ?? {}, descriptor.name, read.identity),
        (k) => this.kernel.kind(k),
      );
      for (const g of grants) await this.kernel.grant(record, g.name, g.kind, g.grant);
    });
  }

  /**
   * Loads a module into a sandbox and gives it handles through `install` (a tool's matched grants; an agent's
   * conversation and tools). Shared by tools and agents (runtime/agents/runner.ts).
   */
  async loadModule(
    read: { module: SandboxModule; identity: string; code: Uint8Array },
    options: Omit<LoadOptions, "grants">,
    engine: string | undefined,
    install: (record: SandboxRecord, descriptor: ToolDescriptor) => Promise<void>,
  ): Promise<Tool> {
    const limits = this.limits(options.limits);
    const backend = this.placed(engine, options.isolation);
    const { module, identity, code } = read;
    let record: SandboxRecord | undefined;
    const hostCall = bridgeTo(this.kernel, () => record);
    const placement = this.cells.placement(identity);
    const start = async () => {
      const sandbox = await backend.create({ limits, hostCall, placement });
      try {
        return { sandbox, descriptor: parseDescriptor(await sandbox.load(module)) };
      } catch (error) {
        await sandbox.dispose();
        throw error;
      }
    };
    const { sandbox, descriptor } = await start();
    try {
      options.verify?.({ definition: descriptor, code });
      // The host holds at most as much for a sandbox's calls in flight as the sandbox may hold itself.
      record = this.kernel.createSandbox(descriptor.name, {
        dataBudget: Math.max(16, limits.memoryMb) << 20,
      });
      await install(record, descriptor);
    } catch (error) {
      await sandbox.dispose();
      if (record) await this.kernel.disposeSandbox(record);
      throw error;
    }
    this.kernel.audit.record({
      event: "load",
      tool: descriptor.name,
      sandbox: record.id,
      summary: `${backend.name} ${module.filename}`,
      decision: "allow",
    });
    const expected = JSON.stringify(descriptor);
    const tool = new Tool({
      kernel: this.kernel,
      backend,
      module,
      limits,
      descriptor,
      record,
      sandbox,
      forget: () => this.tools.delete(tool),
      restart: async () => {
        const fresh = await start();
        // A module that defines a different tool on reload (it read a clock, say) is not the tool that was granted.
        if (JSON.stringify(fresh.descriptor) !== expected) {
          await fresh.sandbox.dispose();
          throw new WardenError(
            "LOAD_ERROR",
            `tool "${descriptor.name}" defined itself differently when restarted`,
          );
        }
        return fresh.sandbox;
      },
    });
    this.tools.add(tool);
    return tool;
  }

  /** Loads a tool only to read what it defines itself as; it gets no handles and is never called. */
  async inspectTool(
    path: string,
    options: { backend?: string; isolation?: Isolation } = {},
  ): Promise<InspectedTool> {
    const backend = this.placed(engineFor(path, options.backend), options.isolation);
    const { module, code, identity } = await this.readModule(path);
    const sandbox = await backend.create({
      limits: DEFAULT_LIMITS,
      hostCall: bridgeTo(this.kernel, () => undefined),
      placement: this.cells.placement(identity),
    });
    try {
      return { definition: parseDescriptor(await sandbox.load(module)), code };
    } finally {
      await sandbox.dispose();
    }
  }

  async close(): Promise<void> {
    for (const tool of this.tools) await tool.dispose();
    this.tools.clear();
    await this.cells.close();
    this.kernel.audit.close();
    this.kv.close();
    this.sessions.close();
  }

  private limits(input: Partial<Limits> | undefined): Limits {
    const parsed = limitsSchema.safeParse(input ?? {});
    if (!parsed.success) throw new WardenError("USAGE", `bad limits: ${z.prettifyError(parsed.error)}`);
    return { ...DEFAULT_LIMITS, ...parsed.data };
  }

  /** How sandboxes are isolated here: the OS layers around cells (each says why if inactive) and live cells. */
  cellReport(): CellReport {
    return this.cells.report(this.isolation);
  }

  /** The backend for a load: `name` (default v8) in-process, or in cells. */
  private placed(name: string | undefined, isolation: Isolation | undefined): Backend {
    const split = splitBackend(name ?? "v8", isolation ?? this.isolation);
    const backend = this.backend(split.engine);
    return split.isolation === "in-process" ? backend : this.cells.backend(backend.name);
  }

  /** Whether a backend of this name is available (v8 always is). */
  hasBackend(name: string): boolean {
    return this.backends.has(name);
  }

  private backend(name: string): Backend {
    const backend = this.backends.get(name);
    if (!backend)
      throw new WardenError(
        "USAGE",
        `unknown backend "${name}"; available: ${[...this.backends.keys()].join(", ")}`,
      );
    return backend;
  }

  /** A loaded tool by the name it defines itself as (the newest loaded, if several): what agents' tools name. */
  toolNamed(name: string): Tool | undefined {
    let found: Tool | undefined;
    for (const tool of this.tools) if (tool.name === name) found = tool;
    return found;
  }

  /** Reads and strips a tool module; its identity (for private state) is its real path, which the host chose. */
  async readModule(path: string): Promise<{ module: SandboxModule; identity: string; code: Uint8Array }> {
    const full = resolve(this.cwd, path);
    let source: string;
    let code: Uint8Array;
    try {
      code = await readFile(full);
      source = Buffer.from(code).toString("utf8");
    } catch {
      throw new WardenError("USAGE", `cannot read tool file ${path}`);
    }
    const ext = extname(full);
    if (ext === ".ts" || ext === ".mts") {
      try {
        source = stripTypeScriptTypes(source, { mode: "strip" });
      } catch (error) {
        throw new WardenError(
          "LOAD_ERROR",
          `cannot strip TypeScript types from ${basename(full)}: ${(error as Error).message.split("\n")[0]}`,
        );
      }
    } else if (ext === ".wasm") {
      source = await prepareComponent(code);
    } else if (ext !== ".js" && ext !== ".mjs") {
      throw new WardenError(
        "USAGE",
        `a tool file must be .js, .mjs, .ts, .mts or a .wasm component, got ${basename(full)}`,
      );
    }
    return { module: { source, filename: basename(full) }, identity: await realpath(full), code };
  }

  private parseGrants(grants: Record<string, GrantInput>, owner: string, identity: string): GrantRequest[] {
    return Object.entries(grants).map(([name, spec]) => {
      if (typeof spec !== "string")
        throw new WardenError("USAGE", `grant "${name}" must be a spec string such as "fs:read:./data"`);
      const { kind, grant } = this.kernel.parseSpec(spec, { cwd: this.cwd, owner, identity });
      return { name, kind, grant };
    });
  }
}

/**
 * The backend a tool file runs on: a `.wasm` component only on "wasm" (which "v8", the default, becomes),
 * and a JS module never on "wasm". The isolation suffix ("wasm:in-process") is kept.
 */
function engineFor(path: string, name: string | undefined): string | undefined {
  const wasmFile = extname(path) === ".wasm";
  const engine = name?.split(":")[0];
  if (wasmFile) {
    if (engine === undefined || engine === "v8") return name ? `wasm${name.slice(2)}` : "wasm";
    if (engine !== "wasm")
      throw new WardenError(
        "USAGE",
        `${basename(path)} is a WebAssembly component: run it with --backend wasm`,
      );
  } else if (engine === "wasm") {
    throw new WardenError(
      "USAGE",
      `the wasm backend runs WebAssembly components (.wasm files); run ${basename(path)} with --backend v8`,
    );
  }
  return name;
}

/** The state directory's kv store; a file SQLite cannot open as one is the operator's to fix, named here. */
function openKvStore(file: string): KvStore {
  try {
    return new SqliteKvStore(file);
  } catch (error) {
    if (!(error instanceof Error) || (error as { code?: unknown }).code !== "ERR_SQLITE_ERROR") throw error;
    throw new WardenError(
      "USAGE",
      `the kv store ${file} cannot be opened (SQLite: ${error.message}); move it aside to start an empty store`,
      undefined,
      undefined,
      { cause: error },
    );
  }
}

export function createRuntime(options?: RuntimeOptions): Runtime {
  return new Runtime(options);
}
