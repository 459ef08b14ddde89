// The backend interface: what the kernel needs from any sandbox technology. Messages only (strings and
// plain data), no shared object references, so a sandbox can live in another process without its callers changing.

export interface Limits {
  /** Wall time for one call (or one load), in ms. */
  timeoutMs: number;
  /** CPU time for one call (or one load), in ms. */
  cpuMs: number;
  /** Heap limit of the sandbox, in MiB. */
  memoryMb: number;
  /** Largest output a call may return, in KiB (its JSON encoding). */
  outputKb: number;
}

export const DEFAULT_LIMITS: Limits = { timeoutMs: 10_000, cpuMs: 2_000, memoryMb: 64, outputKb: 1024 };

/** How a sandbox reaches the kernel: one request, one reply, both JSON text (see runtime/protocol/codec.ts). */
export type HostCall = (fd: number, op: string, argsJson: string) => Promise<string>;

/** What the guest says about its tool after loading it. Untrusted: the kernel parses it with a schema. */
export type RawDescriptor = unknown;

export interface Usage {
  cpuMs: number;
  wallMs: number;
  /** Heap in use, where reading it is cheap enough to report; not measured on every call. */
  heapBytes?: number;
}

export interface RunOutcome {
  /** The output, as JSON text, already checked against the output schema and the output limit. */
  outputJson: string;
  usage: Usage;
}

export interface SandboxModule {
  /** The module's JS source; for the wasm backend, the component as the host prepared it (isolates/wasm/prepare.ts), as text. */
  source: string;
  /** A display name for stack traces inside the guest; never a host path. */
  filename: string;
}

export interface Sandbox {
  /** Evaluates the tool module and returns its descriptor. */
  load(module: SandboxModule): Promise<RawDescriptor>;
  /**
   * Runs the tool once. `handlesJson` tells the guest its descriptors by name. `outputSchemaJson` is the
   * descriptor's output schema, which the backend checks the output against where the tool cannot tamper with it.
   * Throws WardenError: LIMIT_EXCEEDED, INVALID_INPUT, INVALID_OUTPUT, TOOL_ERROR, SANDBOX_CRASHED, or a
   * code the guest reported (the caller decides whether to trust it).
   */
  run(inputJson: string, handlesJson: string, outputSchemaJson: string): Promise<RunOutcome>;
  /** True once the sandbox can no longer run (a limit killed it, or it crashed); the caller makes a new one. */
  readonly dead: boolean;
  dispose(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  /**
   * `placement` says who the sandbox belongs to (the tool's source): a backend that hosts several sandboxes
   * in one process (cells) never puts sandboxes of different placements together. In-process backends ignore it.
   */
  create(options: { limits: Limits; hostCall: HostCall; placement?: string }): Promise<Sandbox>;
}
