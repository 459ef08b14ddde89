// The kernel: sandboxes' handle tables and the one gate every handle call goes through
// (table lookup, rights, policy check, quota, execution, audit).
import { z } from "zod";
import type { AuditLog } from "./audit.ts";
import type { AuditDetail, CapabilityKind, Grant, KindEnv } from "./capabilities/types.ts";
import { type ErrorCode, WardenError } from "./errors.ts";
import { Handle, HandleTable } from "./handles.ts";
import { type InternalReporter, stderrReporter } from "./internal.ts";
import { ATTENUATE_OP } from "./protocol/codec.ts";

export interface KernelQuota {
  /** Handle calls a sandbox may have in flight at once; more are refused, so a guest cannot queue work on the host without bound. */
  maxInFlight: number;
  /** Handle calls per tool call. */
  maxCallsPerRun: number;
}

export const DEFAULT_QUOTA: KernelQuota = { maxInFlight: 64, maxCallsPerRun: 10_000 };

/** The kernel's view of one sandbox: who it is, what it holds, what it is spending. */
export interface SandboxRecord {
  readonly id: string;
  readonly tool: string;
  readonly table: HandleTable;
  /** Handles the sandbox was given by name (grants and delegations), name to descriptor. */
  readonly named: Map<string, number>;
  inFlight: number;
  callsThisRun: number;
  /** Bytes of requests and results the host holds for this sandbox's calls in flight, and their ceiling. */
  dataInFlight: number;
  readonly dataBudget: number;
  /** Aborted when the current run ends, so its in-flight operations (sleeps, fetches) stop. */
  run: AbortController;
  /**
   * Errors the kernel raised in this run, in their host-side form (which may name host paths and grants).
   * A guest's failure is trusted to be one of these only if the kernel really issued it.
   */
  issued: Map<ErrorCode, WardenError>;
  /** Runs begun so far: names the current run for operations that keep per-run state. */
  runs: number;
  /** True between beginRun and endRun: handles work only while the tool runs. */
  running: boolean;
  /** The client session the current run is for, stamped on its audit records. */
  session: string | undefined;
  disposed: boolean;
}

let nextSandboxId = 1;

/** Why a run's in-flight handle calls stop when it ends: built once, since an Error costs a stack capture. */
const RUN_ENDED = new WardenError("LIMIT_EXCEEDED", "the tool call ended before this handle call finished");

/** Host memory one sandbox's calls in flight may hold, unless its creator says otherwise. */
const DEFAULT_DATA_BUDGET = 64 << 20;

/** Handles one sandbox may hold; each may pin a host resource (an open directory). */
const MAX_HANDLES = 1024;

/** One request as the gate sees it: its op, the audit summary once known, and what the op reported. */
interface GateCall {
  op: string;
  summary: string | undefined;
  /** Facts the op reported through `ctx.report` (a model call's tokens and cost): audited when it ends. */
  detail: AuditDetail | undefined;
}

const attenuateRequest = z.looseObject({ rights: z.array(z.string()).optional() });

export class Kernel {
  private readonly kinds = new Map<string, CapabilityKind>();
  private readonly sandboxes = new Map<string, SandboxRecord>();
  readonly audit: AuditLog;
  private readonly quota: KernelQuota;
  /** Where Warden's own failures go (with their cause and stack); the caller gets an id. */
  readonly internal: InternalReporter;

  constructor(options: {
    kinds: CapabilityKind[];
    audit: AuditLog;
    quota?: Partial<KernelQuota>;
    internal?: InternalReporter;
  }) {
    for (const kind of options.kinds) this.kinds.set(kind.kind, kind);
    this.audit = options.audit;
    this.quota = { ...DEFAULT_QUOTA, ...options.quota };
    this.internal = options.internal ?? stderrReporter;
  }

  kind(name: string): CapabilityKind | undefined {
    return this.kinds.get(name);
  }

  kindNames(): string[] {
    return [...this.kinds.keys()];
  }

  /** Parses a grant spec ("fs:read:./data") into its kind and grant; USAGE error if it is not valid. */
  parseSpec(spec: string, env: KindEnv): { kind: CapabilityKind; grant: Grant<unknown> } {
    const colon = spec.indexOf(":");
    const kindName = colon < 0 ? spec : spec.slice(0, colon);
    const kind = this.kinds.get(kindName);
    if (!kind) {
      throw new WardenError(
        "USAGE",
        `unknown capability kind "${kindName}" in grant "${spec}"; known kinds: ${this.kindNames().join(", ")}`,
      );
    }
    return { kind, grant: kind.parseSpec(colon < 0 ? "" : spec.slice(colon + 1), env) };
  }

  createSandbox(tool: string, options: { dataBudget?: number } = {}): SandboxRecord {
    const record: SandboxRecord = {
      id: `sb${nextSandboxId++}`,
      tool,
      table: new HandleTable(),
      named: new Map(),
      inFlight: 0,
      callsThisRun: 0,
      dataInFlight: 0,
      dataBudget: options.dataBudget ?? DEFAULT_DATA_BUDGET,
      run: new AbortController(),
      issued: new Map(),
      runs: 0,
      running: false,
      session: undefined,
      disposed: false,
    };
    this.sandboxes.set(record.id, record);
    return record;
  }

  /** Gives a sandbox a new root handle; returns its descriptor in that sandbox's table. */
  async grant(sb: SandboxRecord, name: string, kind: CapabilityKind, grant: Grant<unknown>): Promise<number> {
    const resource = await kind.open(grant);
    const fd = sb.table.install(new Handle(kind, grant, resource, name));
    sb.named.set(name, fd);
    this.audit.record({
      event: "grant",
      tool: sb.tool,
      sandbox: sb.id,
      handle: name,
      kind: kind.kind,
      summary: kind.formatSpec(grant),
      decision: "allow",
    });
    return fd;
  }

  /**
   * Derives a narrower handle from one the sandbox holds: fewer rights and/or a narrower scope.
   * The result allows nothing its parent does not, and is revoked with it.
   */
  async attenuate(sb: SandboxRecord, fd: number, request: unknown, name?: string): Promise<number> {
    const parent = this.lookup(sb, fd);
    const child = await this.derive(parent, request, name ?? parent.name);
    return sb.table.install(child);
  }

  /** Delegation: gives another sandbox a handle derived (and so revocable) from one this sandbox holds. */
  async delegate(
    from: SandboxRecord,
    fd: number,
    to: SandboxRecord,
    name: string,
    request: unknown = {},
  ): Promise<number> {
    const parent = this.lookup(from, fd);
    const child = await this.derive(parent, request, name);
    const childFd = to.table.install(child);
    to.named.set(name, childFd);
    this.audit.record({
      event: "grant",
      tool: to.tool,
      sandbox: to.id,
      handle: name,
      kind: child.kind.kind,
      summary: `delegated by ${from.tool} from "${parent.name}"`,
      decision: "allow",
    });
    return childFd;
  }

  /** Revokes a handle and every handle derived from it, in whatever sandbox holds them. */
  async revoke(sb: SandboxRecord, fd: number): Promise<number> {
    const handle = sb.table.get(fd);
    if (!handle) throw new WardenError("USAGE", `sandbox ${sb.id} has no handle ${fd}`);
    const count = await handle.revoke();
    this.audit.record({
      event: "revoke",
      tool: sb.tool,
      sandbox: sb.id,
      handle: handle.name,
      kind: handle.kind.kind,
      summary: `${count} handle(s)`,
      decision: "allow",
    });
    return count;
  }

  /**
   * Descriptors a sandbox holds, by the name it knows each by; what the guest runtime is told at each run.
   * A revoked handle stays listed, with no rights: the tool keeps its handle object, and each use of it
   * reaches the gate, which denies it (CAPABILITY_DENIED, audited as a denial) instead of the tool
   * failing on a handle that vanished.
   */
  handlesOf(sb: SandboxRecord): Record<string, { fd: number; kind: string; rights: readonly string[] }> {
    const out: Record<string, { fd: number; kind: string; rights: readonly string[] }> = {};
    for (const [name, fd] of sb.named) {
      const handle = sb.table.get(fd);
      if (handle)
        out[name] = { fd, kind: handle.kind.kind, rights: handle.revoked ? [] : handle.grant.rights };
    }
    return out;
  }

  beginRun(sb: SandboxRecord, session?: string): void {
    sb.session = session;
    sb.run = new AbortController();
    sb.callsThisRun = 0;
    sb.issued.clear();
    sb.runs++;
    sb.running = true;
  }

  endRun(sb: SandboxRecord): void {
    sb.running = false;
    sb.run.abort(RUN_ENDED);
  }

  async disposeSandbox(sb: SandboxRecord): Promise<void> {
    if (sb.disposed) return;
    sb.disposed = true;
    sb.run.abort(new WardenError("CAPABILITY_DENIED", "the sandbox was disposed"));
    for (const [, handle] of sb.table.entries()) await handle.revoke();
    this.sandboxes.delete(sb.id);
  }

  /**
   * The gate. Every handle call from every backend comes here. Errors thrown are guest-safe; the host-side
   * form of each (naming the grant that would allow it) is kept in `sb.issued`.
   */
  async invoke(
    sb: SandboxRecord,
    fd: unknown,
    opName: unknown,
    rawArgs: unknown,
    requestBytes = 0,
  ): Promise<unknown> {
    return this.gate(sb, fd, opName, async (handle, call) => {
      const op = Object.hasOwn(handle.kind.ops, call.op) ? handle.kind.ops[call.op] : undefined;
      if (!op) {
        throw new WardenError(
          "INVALID_ARGUMENT",
          `handle "${handle.name}" (${handle.kind.kind}) has no operation "${call.op}"; it has: ${Object.keys(handle.kind.ops).join(", ")}`,
        );
      }
      const parsed = op.args.safeParse(rawArgs);
      if (!parsed.success) {
        throw new WardenError(
          "INVALID_ARGUMENT",
          `bad arguments to ${handle.name}.${call.op}: ${z.prettifyError(parsed.error)}`,
        );
      }
      const args: unknown = parsed.data;
      call.summary = op.summary(args);
      const right = typeof op.right === "function" ? op.right(args) : op.right;
      for (const needed of [right, ...(op.alsoRequires ?? [])]) {
        if (!handle.grant.rights.includes(needed)) throw this.missingRight(handle, needed);
      }
      const refused = op.check?.({ grant: handle.grant, resource: handle.resource }, args);
      if (refused !== undefined) {
        const { reason, grant } =
          typeof refused === "string" ? { reason: refused, grant: undefined } : refused;
        throw new WardenError("CAPABILITY_DENIED", reason, { handle: handle.name, right, grant });
      }
      this.spend(sb);
      let reserved = 0;
      const reserve = (bytes: number) => {
        if (sb.dataInFlight + bytes > sb.dataBudget) {
          throw new WardenError(
            "LIMIT_EXCEEDED",
            `handle calls in flight would hold more than ${Math.round(sb.dataBudget / 2 ** 20)} MiB on the host; wait for some to finish`,
          );
        }
        sb.dataInFlight += bytes;
        reserved += bytes;
      };
      sb.inFlight++;
      try {
        reserve(requestBytes);
        // Written ahead: the decision is on record before the operation can have any effect, so a crash
        // mid-operation cannot leave an effect with no record. A failure after this adds a second record.
        this.recordCall(sb, handle, call.op, call.summary, "allow");
        const signal = AbortSignal.any([sb.run.signal, handle.signal]);
        const result = await op.run({ grant: handle.grant, resource: handle.resource }, args, {
          signal,
          handleName: handle.name,
          owner: sb.tool,
          reserve,
          run: `${sb.id}/${sb.runs}`,
          session: sb.session,
          report: (fields) => {
            call.detail = { ...call.detail, ...fields };
          },
        });
        // Facts known only once the op has run go in a record of their own, after the write-ahead one.
        if (call.detail)
          this.recordCall(sb, handle, call.op, call.summary, "allow", undefined, call.detail, "result");
        return result;
      } finally {
        sb.inFlight--;
        sb.dataInFlight -= reserved;
      }
    });
  }

  /**
   * A guest's attenuation, through the same gate as a call (running, lookup, quota, audit): derives a
   * narrower handle into the sandbox's own table. Audited as the op `$attenuate` with the child's
   * guest-safe form. The host's own `attenuate` above skips the gate's run-time checks.
   */
  async attenuateCall(
    sb: SandboxRecord,
    fd: unknown,
    request: unknown,
  ): Promise<{ fd: number; rights: readonly string[] }> {
    return this.gate(sb, fd, ATTENUATE_OP, async (handle, call) => {
      this.spend(sb);
      // In flight while it awaits, so concurrent attenuations count against both limits below.
      if (sb.table.size + sb.inFlight >= MAX_HANDLES) {
        throw new WardenError("LIMIT_EXCEEDED", `a sandbox may hold at most ${MAX_HANDLES} handles`);
      }
      sb.inFlight++;
      try {
        const child = await this.derive(handle, request, handle.name);
        const childFd = sb.table.install(child);
        this.recordCall(sb, handle, call.op, child.kind.auditForm(child.grant), "allow");
        return { fd: childFd, rights: child.grant.rights };
      } finally {
        sb.inFlight--;
      }
    });
  }

  /**
   * What every guest request passes before and after its own work: the sandbox is live and running, the
   * descriptor names a handle it holds; a failure is audited (with what the call reported before it failed),
   * and its host-side form kept in `sb.issued`.
   */
  private async gate<T>(
    sb: SandboxRecord,
    fd: unknown,
    opName: unknown,
    work: (handle: Handle, call: GateCall) => Promise<T>,
  ): Promise<T> {
    let handle: Handle | undefined;
    const call: GateCall = { op: String(opName), summary: undefined, detail: undefined };
    try {
      if (sb.disposed) throw new WardenError("CAPABILITY_DENIED", "this sandbox has been disposed");
      if (!sb.running)
        throw new WardenError("CAPABILITY_DENIED", "handles can be used only while the tool runs");
      if (typeof fd !== "number" || typeof opName !== "string") {
        throw new WardenError(
          "INVALID_ARGUMENT",
          "a handle call needs a handle descriptor and an operation name",
        );
      }
      handle = this.lookup(sb, fd);
      return await work(handle, call);
    } catch (error) {
      const guestError = this.internal(error, `handle call ${handle?.kind.kind ?? "?"}.${String(opName)}`);
      const denied = guestError.code === "CAPABILITY_DENIED";
      // A revoked handle fails its lookup, yet the record still names it: the sandbox holds it by that name.
      const named = handle ?? (typeof fd === "number" ? sb.table.get(fd) : undefined);
      this.recordCall(sb, named, call.op, call.summary, denied ? "deny" : "error", guestError, call.detail);
      sb.issued.set(guestError.code, this.forHost(handle, guestError));
      throw guestError;
    }
  }

  /**
   * A handle call the channel refused before the gate could read it (arguments that are not JSON, or nested
   * too deep to walk): recorded like any refused call, and issued, so the guest's report of it is believed.
   */
  refuse(sb: SandboxRecord, fd: unknown, opName: unknown, error: WardenError): WardenError {
    const handle = typeof fd === "number" ? sb.table.get(fd) : undefined;
    this.recordCall(sb, handle, String(opName), undefined, "error", error);
    sb.issued.set(error.code, error);
    return error;
  }

  /** Charges one handle call to the sandbox's quota, or refuses it. */
  private spend(sb: SandboxRecord): void {
    if (sb.inFlight >= this.quota.maxInFlight) {
      throw new WardenError(
        "LIMIT_EXCEEDED",
        `more than ${this.quota.maxInFlight} handle calls in flight at once`,
      );
    }
    if (++sb.callsThisRun > this.quota.maxCallsPerRun) {
      throw new WardenError(
        "LIMIT_EXCEEDED",
        `more than ${this.quota.maxCallsPerRun} handle calls in one tool call`,
      );
    }
  }

  private lookup(sb: SandboxRecord, fd: number): Handle {
    const handle = sb.table.get(fd);
    // One message for "never existed" and "revoked", so a guest cannot probe for other sandboxes' handles.
    if (!handle) throw new WardenError("CAPABILITY_DENIED", `no handle ${fd} in this sandbox`);
    if (handle.revoked)
      throw new WardenError("CAPABILITY_DENIED", `handle "${handle.name}" has been revoked`, {
        handle: handle.name,
      });
    return handle;
  }

  private async derive(parent: Handle, request: unknown, name: string): Promise<Handle> {
    const parsed = attenuateRequest.safeParse(request);
    if (!parsed.success)
      throw new WardenError("INVALID_ARGUMENT", `bad attenuation request: ${z.prettifyError(parsed.error)}`);
    const { rights: wanted, ...scopeRequest } = parsed.data;
    const rights = wanted ?? [...parent.grant.rights];
    for (const right of rights) {
      if (!parent.grant.rights.includes(right))
        throw this.missingRight(parent, right, "cannot be delegated: the parent lacks it");
    }
    let scope = parent.grant.scope;
    if (Object.keys(scopeRequest).length > 0) {
      const narrowing = parent.kind.narrowArgs.safeParse(scopeRequest);
      if (!narrowing.success) {
        throw new WardenError(
          "INVALID_ARGUMENT",
          `bad attenuation of a ${parent.kind.kind} handle: ${z.prettifyError(narrowing.error)}`,
        );
      }
      scope = await parent.kind.narrow({ grant: parent.grant, resource: parent.resource }, narrowing.data);
    }
    const grant: Grant<unknown> = { rights, scope };
    const resource = await parent.kind.open(grant, { grant: parent.grant, resource: parent.resource });
    const child = new Handle(parent.kind, grant, resource, name, parent);
    // The parent may have been revoked while this derivation awaited; its revocation did not see this child.
    if (parent.revoked) {
      await child.revoke();
      throw new WardenError("CAPABILITY_DENIED", `handle "${parent.name}" has been revoked`, {
        handle: parent.name,
      });
    }
    return child;
  }

  private missingRight(handle: Handle, right: string, why = "is missing"): WardenError {
    return new WardenError(
      "CAPABILITY_DENIED",
      `the "${right}" right ${why} on handle "${handle.name}" (${handle.kind.kind}; it has: ${handle.grant.rights.join(", ") || "none"})`,
      { handle: handle.name, right },
    );
  }

  /**
   * The host-side form of a guest error: adds the grant that would allow the call, which may name host paths.
   * Whatever the kind: a denial's message is guest-safe, and what would allow it travels in `denial.grant`
   * (named by the kind, e.g. net's wider origins) or is derived here from the missing right.
   */
  private forHost(handle: Handle | undefined, error: WardenError): WardenError {
    const right = error.denial?.right;
    if (!handle || error.code !== "CAPABILITY_DENIED" || !right) return error;
    let spec = error.denial?.grant;
    if (spec === undefined) {
      if (handle.grant.rights.includes(right)) return error;
      const known = handle.kind.rights;
      const rights = [...handle.grant.rights, right].sort((a, b) => known.indexOf(a) - known.indexOf(b));
      spec = handle.kind.formatSpec({ ...handle.grant, rights });
    }
    return new WardenError(
      "CAPABILITY_DENIED",
      error.message,
      { handle: handle.name, right, grant: spec },
      `to allow it, grant --grant ${handle.name}=${spec}`,
    );
  }

  private recordCall(
    sb: SandboxRecord,
    handle: Handle | undefined,
    op: string,
    summary: string | undefined,
    decision: "allow" | "deny" | "error",
    error?: WardenError,
    detail?: AuditDetail,
    event: "call" | "result" = "call",
  ): void {
    this.audit.record({
      event,
      tool: sb.tool,
      sandbox: sb.id,
      session: sb.session,
      handle: handle?.name,
      kind: handle?.kind.kind,
      op,
      summary,
      decision,
      code: error?.code,
      reason: error?.message,
      ...(detail ? { detail } : {}),
    });
  }
}
