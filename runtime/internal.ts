// INTERNAL errors (bugs in Warden): each gets an id that its message cites, and its cause and stack go to the
// operator's log (<state>/internal-errors.jsonl, or stderr), never to the caller, a guest or a model.
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { WardenError } from "./errors.ts";

/** The operator log's file name in a state directory. */
export const INTERNAL_LOG = "internal-errors.jsonl";

/**
 * Turns a failure that is Warden's own fault into an INTERNAL error citing an id, after writing the cause
 * (with its stack and causes) to the operator log under that id. A WardenError that is not INTERNAL, or
 * an INTERNAL one already reported, is returned as it is.
 */
export type InternalReporter = (error: unknown, where: string) => WardenError;

/** How deep a chain of causes is written; a cycle of causes stops here too. */
const MAX_CAUSES = 8;

interface Described {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: Described;
}

function describe(error: unknown, depth = 0): Described {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const out: Described = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (error.stack) out.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_CAUSES) out.cause = describe(error.cause, depth + 1);
  return out;
}

/** What an INTERNAL error's message says, to a caller, a guest or a model: the id and where details are. */
export function internalMessage(incident: string): string {
  return `internal error in Warden (id ${incident}); see the operator log`;
}

/** A reporter that writes to `<stateDir>/internal-errors.jsonl`, or to stderr when there is no state directory. */
export function internalReporter(stateDir?: string): InternalReporter {
  const file = stateDir === undefined ? undefined : join(stateDir, INTERNAL_LOG);
  return (error, where) => {
    if (error instanceof WardenError && (error.code !== "INTERNAL" || error.incident !== undefined))
      return error;
    // A fixed-message INTERNAL (toWardenError) is reported by the error it wraps.
    const cause = error instanceof WardenError && error.cause !== undefined ? error.cause : error;
    const incident = randomBytes(4).toString("hex");
    const entry = { time: new Date().toISOString(), id: incident, where, error: describe(cause) };
    write(file, entry);
    return new WardenError("INTERNAL", internalMessage(incident), undefined, undefined, { cause, incident });
  };
}

function write(file: string | undefined, entry: { id: string; where: string; error: Described }): void {
  if (file !== undefined) {
    try {
      appendFileSync(file, `${JSON.stringify(entry)}\n`);
      return;
    } catch {
      // The state directory is not writable: the entry still goes somewhere the operator reads.
    }
  }
  let text = `warden: internal error ${entry.id} in ${entry.where}: ${rendered(entry.error)}`;
  for (let cause = entry.error.cause; cause; cause = cause.cause) text += `\ncaused by: ${rendered(cause)}`;
  process.stderr.write(`${text}\n`);
}

function rendered(error: Described): string {
  return error.stack ?? `${error.name}: ${error.message}`;
}

/** The reporter for code with no state directory at hand (the CLI's last resort, an HTTP listener). */
export const stderrReporter: InternalReporter = internalReporter();
