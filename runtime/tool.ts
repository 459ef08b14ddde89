// A loaded tool: its sandbox, its kernel record, and one call at a time through both.
import type { AuditLog } from "./audit.ts";
import type { ToolDescriptor } from "./descriptor.ts";
import { type ErrorCode, isErrorCode, WardenError } from "./errors.ts";
import { GuestReportedError } from "./isolates/results.ts";
import type { Backend, Limits, Sandbox, SandboxModule } from "./isolates/types.ts";
import type { Kernel, SandboxRecord } from "./kernel.ts";
import { jsonTextTooDeep, MAX_JSON_DEPTH, valueTooDeep } from "./protocol/depth.ts";

/** Codes a tool may report about itself; any other code it reports must match an error the kernel really raised. */
const SELF_REPORTED: ReadonlySet<ErrorCode> = new Set(["INVALID_INPUT", "INVALID_OUTPUT", "TOOL_ERROR"]);

export interface ToolParts {
  kernel: Kernel;
  backend: Backend;
  module: SandboxModule;
  limits: Limits;
  descriptor: ToolDescriptor;
  record: SandboxRecord;
  sandbox: Sandbox;
  /** Starts a fresh sandbox for this tool after its previous one died. */
  restart: () => Promise<Sandbox>;
  /** Called once when the tool is disposed, so its runtime stops holding it. */
  forget: () => void;
}

/** Who a call is made for, recorded with every decision the call causes. */
export interface CallContext {
  /** The client session (an MCP client and session id), if the host knows one. */
  session?: string;
}

/** The input as the sandbox gets it; refused (and so audited as this call's failure) when it cannot be. */
function encodeInput(input: unknown): string {
  // Checked first, without recursion: JSON.stringify overflows the stack on deep input.
  if (valueTooDeep(input)) {
    throw new WardenError(
      "INVALID_INPUT",
      `the input is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`,
    );
  }
  try {
    const json = JSON.stringify(input ?? null) as string | undefined;
    if (json !== undefined) return json;
  } catch (error) {
    // A BigInt, or a toJSON that throws: the caller's input, not Warden's fault.
    throw new WardenError("INVALID_INPUT", "the input cannot be encoded as JSON", undefined, undefined, {
      cause: error,
    });
  }
  throw new WardenError("INVALID_INPUT", "the input cannot be encoded as JSON (a function or a symbol)");
}

export class Tool {
  readonly definition: ToolDescriptor;
  readonly limits: Limits;
  readonly backend: string;
  private readonly kernel: Kernel;
  private readonly record: SandboxRecord;
  private sandbox: Sandbox;
  private readonly restart: () => Promise<Sandbox>;
  private readonly forget: () => void;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(parts: ToolParts) {
    this.definition = parts.descriptor;
    this.limits = parts.limits;
    this.backend = parts.backend.name;
    this.kernel = parts.kernel;
    this.record = parts.record;
    this.sandbox = parts.sandbox;
    this.restart = parts.restart;
    this.forget = parts.forget;
  }

  get name(): string {
    return this.definition.name;
  }

  /** The kernel's record of this tool's sandbox (its handle table); for hosts that delegate or revoke. */
  get sandboxRecord(): SandboxRecord {
    return this.record;
  }

  /** Calls the tool. Calls on one tool run one after another; load a tool twice to run it in parallel. */
  call(input: unknown, context: CallContext = {}): Promise<unknown> {
    const result = this.queue.then(() => this.callNow(input, context));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Revokes the handle the tool knows by `name`, and everything derived from it. */
  async revoke(name: string): Promise<number> {
    const fd = this.record.named.get(name);
    if (fd === undefined)
      throw new WardenError("USAGE", `tool "${this.name}" holds no handle named "${name}"`);
    return this.kernel.revoke(this.record, fd);
  }

  private async callNow(input: unknown, context: CallContext): Promise<unknown> {
    if (this.disposed) throw new WardenError("USAGE", `tool "${this.name}" has been disposed`);
    const audit: AuditLog = this.kernel.audit;
    this.kernel.beginRun(this.record, context.session);
    try {
      const inputJson = encodeInput(input);
      // Inside the audited block: a call whose fresh sandbox fails to start is recorded like any failure.
      if (this.sandbox.dead) {
        await this.sandbox.dispose();
        this.sandbox = await this.restart();
      }
      const outcome = await this.sandbox.run(
        inputJson,
        JSON.stringify(this.kernel.handlesOf(this.record)),
        JSON.stringify(this.definition.outputSchema),
      );
      // A cell checked this too, but a cell may be compromised; the host's callers encode the output again.
      if (jsonTextTooDeep(outcome.outputJson)) {
        throw new WardenError(
          "INVALID_OUTPUT",
          `the tool's output is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`,
        );
      }
      audit.record({
        event: "call",
        tool: this.name,
        sandbox: this.record.id,
        session: context.session,
        op: "run",
        decision: "allow",
      });
      return JSON.parse(outcome.outputJson) as unknown;
    } catch (error) {
      const failure = this.trusted(error);
      audit.record({
        event: failure.code === "LIMIT_EXCEEDED" ? "limit" : "call",
        tool: this.name,
        sandbox: this.record.id,
        session: context.session,
        op: "run",
        decision: failure.code === "CAPABILITY_DENIED" ? "deny" : "error",
        code: failure.code,
        reason: failure.message,
      });
      throw failure;
    } finally {
      this.kernel.endRun(this.record);
    }
  }

  /** What the caller is told: the kernel's own record of an error where the guest claims one. */
  private trusted(error: unknown): WardenError {
    if (error instanceof WardenError) return error;
    if (error instanceof GuestReportedError) {
      if (isErrorCode(error.code) && SELF_REPORTED.has(error.code))
        return new WardenError(error.code, error.message);
      const issued = isErrorCode(error.code) ? this.record.issued.get(error.code) : undefined;
      if (issued) return issued;
      return new WardenError("TOOL_ERROR", `${error.code}: ${error.message}`);
    }
    return this.kernel.internal(error, `a call of tool "${this.name}"`);
  }

  /**
   * Ends the tool. `now`: without waiting for the call in flight, whose sandbox is disposed under it (an
   * agent session cancelled mid-run); otherwise after it.
   */
  async dispose(options: { now?: boolean } = {}): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (!options.now) await this.queue;
    await this.sandbox.dispose();
    await this.kernel.disposeSandbox(this.record);
    this.forget();
  }
}
