// What an audit database SQLite cannot read is reported as: AUDIT_BROKEN (or USAGE) naming the file, not a stack.
import { WardenError } from "../errors.ts";

/** SQLite's result codes for a file that is not (or no longer) a database. */
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

interface SqliteFailure {
  code: "ERR_SQLITE_ERROR";
  errcode: number;
  message: string;
}

function isSqliteFailure(error: unknown): error is SqliteFailure {
  return error instanceof Error && (error as { code?: unknown }).code === "ERR_SQLITE_ERROR";
}

/**
 * The coded error for a failure while opening or reading the audit database in `file`; the original is
 * kept as `cause`. A failure that is not about the file (a bug) is returned as it is.
 */
export function auditFileError(file: string, error: unknown): unknown {
  if (error instanceof WardenError) return error;
  const options = { cause: error };
  if (error instanceof SyntaxError) {
    return new WardenError(
      "AUDIT_BROKEN",
      `the audit log ${file} holds a record that is not JSON: it was changed outside Warden`,
      undefined,
      undefined,
      options,
    );
  }
  if (!isSqliteFailure(error)) return error;
  const damaged =
    error.errcode === SQLITE_CORRUPT ||
    error.errcode === SQLITE_NOTADB ||
    /no such table|malformed/.test(error.message);
  if (damaged) {
    return new WardenError(
      "AUDIT_BROKEN",
      `the audit log ${file} is not an audit database Warden can read (SQLite: ${error.message}): it was truncated, overwritten or replaced; keep it for inspection, and move it aside to start a new log`,
      undefined,
      undefined,
      options,
    );
  }
  return new WardenError(
    "USAGE",
    `cannot read the audit log ${file} (SQLite: ${error.message})`,
    undefined,
    undefined,
    options,
  );
}

/** Runs `work` on the audit database in `file`, turning a failure to read it into a coded error. */
export function readingAuditFile<T>(file: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw auditFileError(file, error);
  }
}
