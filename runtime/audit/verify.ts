// Walks the audit chain from the first record and names the first one that was edited, deleted or moved.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { WardenError } from "../errors.ts";
import { AUDIT_DB, chainHash, GENESIS } from "./chain.ts";
import { readingAuditFile } from "./unreadable.ts";

export type Tampering = "edited" | "deleted" | "moved";

export type VerifyResult =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; id: number; tampering: Tampering; message: string };

interface Row {
  id: number;
  record: string;
  prev: string;
  hash: string;
}

/** Opens a state directory's audit database for reading, or says how to get one. */
export function openExistingAuditDb(stateDir: string): DatabaseSync {
  const file = join(stateDir, AUDIT_DB);
  if (!existsSync(file)) {
    throw new WardenError(
      "USAGE",
      `no audit log at ${file}; run a tool with --state ${stateDir} first, or pass the --state DIR it used`,
    );
  }
  return readingAuditFile(file, () => {
    const db = new DatabaseSync(file);
    try {
      db.exec("PRAGMA busy_timeout=10000;");
      // SQLite reads the file lazily: a damaged one is found here, not at the first query.
      db.prepare("SELECT id, record, prev, hash FROM audit LIMIT 1").get();
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  });
}

function embeddedId(text: string): number | undefined {
  try {
    const parsed = JSON.parse(text) as { id?: unknown };
    return typeof parsed.id === "number" ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks, row by row in id order: the row's hash covers its prev and text (else it was edited); the id in
 * its text is its place (else it was moved, or a deletion was hidden by renumbering); no id is skipped (else one was
 * deleted); its prev is the hash of the row before (else the row before was edited and re-hashed).
 * Deleting the newest records leaves a shorter chain that still verifies: compare `head` with a copy kept
 * elsewhere to catch that.
 */
export function verifyChain(db: DatabaseSync): VerifyResult {
  let expectedId = 1;
  let prevHash = GENESIS;
  let records = 0;
  for (const raw of db.prepare("SELECT id, record, prev, hash FROM audit ORDER BY id").iterate()) {
    const row = raw as unknown as Row;
    const broken = (id: number, tampering: Tampering, message: string): VerifyResult => ({
      ok: false,
      records,
      id,
      tampering,
      message,
    });
    if (chainHash(row.prev, row.record) !== row.hash) {
      return broken(row.id, "edited", `record ${row.id} was edited: its contents no longer match its hash`);
    }
    const own = embeddedId(row.record);
    if (own !== row.id) {
      // Record `row.id` still somewhere else in the table: it was moved; nowhere: it was deleted.
      const elsewhere = db.prepare("SELECT 1 FROM audit WHERE json_extract(record, '$.id') = ?").get(row.id);
      if (elsewhere === undefined && own !== undefined && own > row.id) {
        return broken(
          row.id,
          "deleted",
          `record ${row.id} was deleted: record ${own} was renumbered into its place`,
        );
      }
      return broken(
        row.id,
        "moved",
        `record ${row.id} was moved: the row in place ${row.id} is record ${own ?? "(no id)"}`,
      );
    }
    if (row.id !== expectedId) {
      return broken(
        expectedId,
        "deleted",
        `record ${expectedId} was deleted: the chain goes from record ${expectedId - 1} to ${row.id}`,
      );
    }
    if (row.prev !== prevHash) {
      const before = row.id - 1;
      // Record `before` was counted as intact above; it is the one that was rewritten.
      records--;
      return broken(
        before,
        "edited",
        `record ${before} was edited: record ${row.id} links to a different hash than record ${before} now has`,
      );
    }
    prevHash = row.hash;
    expectedId++;
    records++;
  }
  return { ok: true, records, head: prevHash };
}
