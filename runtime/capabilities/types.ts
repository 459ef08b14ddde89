// The contract every capability kind implements; the kernel's gate is the only caller of these methods.
import type { z } from "zod";

/** What one handle may do: a set of rights and a kind-specific scope (a directory, some origins, ...). */
export interface Grant<Scope> {
  rights: readonly string[];
  scope: Scope;
}

/** Per-call context the gate passes to an operation. */
export interface OpContext {
  /** Aborted when the call's sandbox ends, its wall time runs out, or the handle is revoked. */
  signal: AbortSignal;
  /** The name the sandbox gave this handle (e.g. "files"), for messages the guest will read. */
  handleName: string;
  /** Who holds the handle (the tool's name), for sinks such as the log. */
  owner?: string;
  /**
   * Charges bytes this call is about to hold on the host (a file read, a response body) to the sandbox's
   * budget for data in flight; throws LIMIT_EXCEEDED past it. Released when the call ends.
   */
  reserve?: (bytes: number) => void;
  /** Names the tool call in progress (one per run of the sandbox); a model's scripted session is keyed by it. */
  run?: string;
  /** The client session the call is for, when the host knows one. */
  session?: string;
  /**
   * Adds fields to this call's audit record that are known only once it has run (a model call's tokens and
   * cost). Written when the call ends, in a "result" record (or the error record). Never content or secrets.
   */
  report?: (detail: AuditDetail) => void;
}

/** Facts about a finished call for the audit log: counts, names, durations. */
export type AuditDetail = Readonly<Record<string, string | number>>;

/** One operation on a handle. Its arguments come from an untrusted guest and are parsed by `args` first. */
export interface Operation<Scope, Resource, Args = unknown> {
  /** The right the handle must hold for this operation; a function when it depends on the arguments (net: the method). */
  right: string | ((args: Args) => string);
  /** Further rights the operation needs besides `right` (rename needs create as well as delete). */
  alsoRequires?: readonly string[];
  args: z.ZodType<Args>;
  run(target: OpenHandle<Scope, Resource>, args: Args, ctx: OpContext): Promise<unknown>;
  /** A one-line summary of the arguments for the audit log. Must not include secrets (bodies, header values). */
  summary(args: Args): string;
  /**
   * Optional finer check after the right: e.g. net checks the method. Returning a string denies the call
   * with that reason; the gate turns it into CAPABILITY_DENIED. The reason reaches the guest, so what
   * would allow the call goes in `grant` (a spec), which only the operator sees, as a hint.
   */
  check?(target: OpenHandle<Scope, Resource>, args: Args): string | Refusal | undefined;
}

/** A check's denial: a guest-safe reason, and the grant spec that would allow the call (for the operator). */
export interface Refusal {
  reason: string;
  grant?: string;
}

export interface OpenHandle<Scope, Resource> {
  grant: Grant<Scope>;
  resource: Resource;
}

/** Shared services a kind may need; injected so tests can substitute them. */
export interface KindEnv {
  /** Directory relative paths in grant specs are resolved against. */
  cwd: string;
  /** Who the grant is for (the tool's name, as it calls itself): for messages only, never for access decisions. */
  owner?: string;
  /**
   * An identity the host chose for the grant's holder (the tool module's absolute path): what kinds with
   * private state (kv) key that state by. Never taken from the guest, which can call itself anything.
   */
  identity?: string;
}

export interface CapabilityKind<Scope = unknown, Resource = unknown> {
  /** The spec prefix and the `type` tools declare: "fs", "net", "kv", "clock", "log". */
  readonly kind: string;
  /** Every right this kind knows, in a stable order. */
  readonly rights: readonly string[];
  /** Rights a grant spec gets when it names none (e.g. "kv" alone). */
  readonly defaultRights: readonly string[];
  /**
   * Parses what follows "kind:" in a grant spec (may be empty), e.g. "read,write:./data" for fs.
   * Throws WardenError("USAGE") with a message that shows a valid spec.
   */
  parseSpec(body: string, env: KindEnv): Grant<Scope>;
  /** The spec, in CLI syntax, of a grant: used in denial messages to name the grant that would allow a call. */
  formatSpec(grant: Grant<Scope>): string;
  /**
   * The grant as the audit log records a guest's attenuation: guest-safe (no host paths, no secrets), since
   * the guest chose it. E.g. `fs:read`, `net:GET:https://api.example.com`.
   */
  auditForm(grant: Grant<Scope>): string;
  /** Plain words for what a grant allows, for people reading policies and errors. */
  describe(grant: Grant<Scope>): string;
  /**
   * Acquires host resources for a new handle (e.g. opens the root directory). For a derived handle, `parent`
   * is the handle it was derived from, so a resource can draw on its parent's (a log budget).
   */
  open(grant: Grant<Scope>, parent?: OpenHandle<Scope, Resource>): Promise<Resource>;
  /** Releases them; called once, when the handle is revoked or its sandbox disposed. */
  close(resource: Resource): Promise<void>;
  /**
   * Attenuation of the scope (rights are narrowed by the kernel, generically). `request` is untrusted and
   * is parsed by `narrowArgs`. The result must allow nothing the parent does not.
   */
  readonly narrowArgs: z.ZodType;
  narrow(parent: OpenHandle<Scope, Resource>, request: unknown): Promise<Scope>;
  // biome-ignore lint/suspicious/noExplicitAny: ops differ in argument type; each op's schema types its own run().
  readonly ops: Readonly<Record<string, Operation<Scope, Resource, any>>>;
}

/** Helper that keeps an operation's argument type tied to its schema. */
export function defineOperation<Scope, Resource, Args>(
  op: Operation<Scope, Resource, Args>,
): Operation<Scope, Resource, Args> {
  return op;
}
