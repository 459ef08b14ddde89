// The one error type of Warden: a stable code, a message that says what to change, and nothing of the host.

/**
 * Every code a caller or a guest can see. Codes are API: never rename one, only add.
 * Guests see a subset (see GUEST_CODES); host-only codes never cross into a sandbox.
 */
export const ERROR_CODES = [
  "USAGE", // the caller used the CLI or host API wrongly
  "INVALID_INPUT", // the tool's input did not match its input schema
  "INVALID_OUTPUT", // the tool's output did not match its output schema
  "CAPABILITY_DENIED", // a handle lacked a right, a path or origin was outside the grant, or the handle was revoked
  "LIMIT_EXCEEDED", // a CPU, memory, wall-time, output or quota limit was hit
  "TOOL_ERROR", // the tool's own code threw or misbehaved
  "LOAD_ERROR", // the tool module could not be loaded or did not define a tool
  "INVALID_ARGUMENT", // a handle operation got arguments of the wrong shape
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "NOT_A_DIRECTORY",
  "IS_A_DIRECTORY",
  "NOT_EMPTY",
  "NET_ERROR", // a granted request failed in transit (DNS, connect, TLS, reset)
  "SANDBOX_CRASHED", // the sandbox died for a reason other than a limit
  "INTERNAL", // a bug in Warden itself; never the caller's fault
  "POLICY_INVALID", // a policy file (or a policy test table) is not valid; every problem is listed
  "TOOL_CHANGED", // a tool pinned by a policy digest no longer matches it
  "AUDIT_BROKEN", // the audit log's hash chain does not verify: a record was edited, deleted or moved
  "POLICY_TEST_FAILED", // a policy test table has cases whose expected decision differs from the policy's
  "MODEL_ERROR", // a model provider refused or failed a call, sent a malformed answer, or a scripted model had no matching turn
  "REPLAY_MISMATCH", // a replayed agent session asked its model or tools otherwise than its journal says
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes a guest may receive from a handle call. Anything else is reported to the guest as INTERNAL. */
export const GUEST_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "CAPABILITY_DENIED",
  "LIMIT_EXCEEDED",
  "INVALID_ARGUMENT",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "NOT_A_DIRECTORY",
  "IS_A_DIRECTORY",
  "NOT_EMPTY",
  "NET_ERROR",
  "MODEL_ERROR",
  // An agent's tool handle reports the failure of the tool it called (runtime/capabilities/tool/).
  "TOOL_ERROR",
  "INTERNAL",
]);

/** What a denial names, so a reader knows exactly which grant would allow the call. */
export interface Denial {
  handle: string;
  right?: string;
  /** A grant spec, in CLI syntax, that would allow this call. */
  grant?: string;
}

export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly denial: Denial | undefined;
  /**
   * For the operator only (CLI, host API, audit): what would change the outcome, e.g. the grant that would
   * allow a call. It may name host paths, so it never reaches a guest or a model; `message` stays safe for both.
   */
  readonly hint: string | undefined;
  /** For INTERNAL: the id its message cites, under which the operator log keeps its cause and stack. */
  readonly incident: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    denial?: Denial,
    hint?: string,
    options?: { cause?: unknown; incident?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WardenError";
    this.code = code;
    this.denial = denial;
    this.hint = hint;
    this.incident = options?.incident;
  }

  /** The operator's serialisable form (the CLI's error line): the message and, if there is one, the hint. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.hint ? `${this.message}; ${this.hint}` : this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * Turns anything thrown into a WardenError without leaking it: an unknown error becomes INTERNAL with a
 * fixed message, because its text may hold host paths or stack frames. The original stays on `cause`;
 * the gate logs it (runtime/internal.ts) and gives the caller an id instead.
 */
export function toWardenError(error: unknown): WardenError {
  if (error instanceof WardenError) return error;
  return new WardenError("INTERNAL", "internal error in Warden", undefined, undefined, { cause: error });
}
