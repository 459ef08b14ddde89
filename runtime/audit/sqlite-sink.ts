// The durable audit sink: one hash-chained row per record in <state>/audit.sqlite, committed before it returns.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { AuditRecord, AuditSink } from "../audit.ts";
import { canonicalJson } from "./canonical.ts";
import { chainHash, GENESIS } from "./chain.ts";
import { readingAuditFile } from "./unreadable.ts";

const SCHEMA = `CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  record TEXT NOT NULL,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL
)`;

/** Opens (creating if needed) an audit database; WAL so readers never block the writer. */
export function openAuditDb(file: string): DatabaseSync {
  mkdirSync(dirname(file), { recursive: true });
  return readingAuditFile(file, () => {
    const db = new DatabaseSync(file);
    try {
      // FULL: each commit is fsynced before write() returns, so an acknowledged record survives a power loss,
      // not only a killed process. Measured cost is in the README ("Audit").
      db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;");
      db.exec(SCHEMA);
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  });
}

export interface SqliteSinkOptions {
  /** Called after each commit (one fsync of the log under synchronous=FULL) with its record count; for tests. */
  onCommit?: (records: number) => void;
}

/**
 * Appends records to the chain. Each batch is one IMMEDIATE transaction that reads the head and inserts
 * after it, so several processes sharing one state directory extend one chain instead of forking it.
 * A write that fails throws, and none of its batch is kept: a decision that cannot be recorded must not
 * pass silently.
 */
export class SqliteAuditSink implements AuditSink {
  private readonly db: DatabaseSync;
  private readonly head: StatementSync;
  private readonly insert: StatementSync;
  private readonly onCommit: ((records: number) => void) | undefined;
  private closed = false;

  constructor(file: string, options: SqliteSinkOptions = {}) {
    this.db = openAuditDb(file);
    this.head = this.db.prepare("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");
    this.insert = this.db.prepare("INSERT INTO audit (id, record, prev, hash) VALUES (?, ?, ?, ?)");
    this.onCommit = options.onCommit;
  }

  write(record: AuditRecord): void {
    this.writeBatch([record]);
  }

  writeBatch(records: AuditRecord[]): void {
    if (records.length === 0) return;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const head = this.head.get() as { id: number; hash: string } | undefined;
      let id = head?.id ?? 0;
      let prev = head?.hash ?? GENESIS;
      for (const record of records) {
        // `seq` counts within one runtime; the chain's own `id` is the durable order across processes.
        const { seq: _seq, ...rest } = record;
        id++;
        const text = canonicalJson({ ...rest, id });
        const hash = chainHash(prev, text);
        this.insert.run(id, text, prev, hash);
        prev = hash;
      }
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
    this.onCommit?.(records.length);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
