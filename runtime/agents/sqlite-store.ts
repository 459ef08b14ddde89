// Sessions in node:sqlite under the state directory (<state>/sessions.sqlite): WAL with synchronous=FULL, so
// each write is on disk before the call that made it returns, and a kernel killed with -9 loses nothing acknowledged.
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { Message } from "../capabilities/model/conversation.ts";
import { WardenError } from "../errors.ts";
import { thisProcess } from "./owner.ts";
import {
  asRead,
  type Compaction,
  type Entry,
  freshSession,
  type NewSession,
  ownerAfter,
  type Session,
  type SessionPatch,
  type SessionStore,
  type Step,
  unknownSession,
} from "./store.ts";

export const SESSIONS_DB = "sessions.sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, agent TEXT NOT NULL, parent TEXT, root TEXT NOT NULL, status TEXT NOT NULL,
  task TEXT NOT NULL, answer TEXT, error TEXT, model TEXT NOT NULL, created INTEGER NOT NULL,
  updated INTEGER NOT NULL, spent TEXT NOT NULL, owner TEXT);
CREATE INDEX IF NOT EXISTS sessions_parent ON sessions(parent);
CREATE TABLE IF NOT EXISTS messages (
  session TEXT NOT NULL, seq INTEGER NOT NULL, message TEXT NOT NULL, PRIMARY KEY (session, seq));
CREATE TABLE IF NOT EXISTS steps (
  session TEXT NOT NULL, idx INTEGER NOT NULL, step TEXT NOT NULL, PRIMARY KEY (session, idx));
CREATE TABLE IF NOT EXISTS compactions (
  session TEXT NOT NULL, idx INTEGER NOT NULL, compaction TEXT NOT NULL, PRIMARY KEY (session, idx));
`;

interface SessionRow {
  id: string;
  agent: string;
  parent: string | null;
  root: string;
  status: Session["status"];
  task: string;
  answer: string | null;
  error: string | null;
  model: string;
  created: number;
  updated: number;
  spent: string;
  /** Who runs it (owner.ts): behind the interface, never in a Session. */
  owner: string | null;
}

function fromRow({ owner, ...row }: SessionRow): Session {
  return asRead({ ...row, spent: JSON.parse(row.spent) as Session["spent"] }, owner);
}

export class SqliteSessionStore implements SessionStore {
  private readonly db: DatabaseSync;

  constructor(file: string) {
    try {
      this.db = new DatabaseSync(file);
      this.db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
      this.db.exec(SCHEMA);
      // A store made before sessions recorded their owner gains the column (its sessions have none).
      const columns = this.all<{ name: string }>("PRAGMA table_info(sessions)");
      if (!columns.some((c) => c.name === "owner"))
        this.db.exec("ALTER TABLE sessions ADD COLUMN owner TEXT");
    } catch (error) {
      throw new WardenError(
        "USAGE",
        `the session store ${file} cannot be opened (SQLite: ${(error as Error).message}); move it aside to start an empty one`,
        undefined,
        undefined,
        { cause: error },
      );
    }
  }

  private all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.db.prepare(sql).all(...params) as unknown as T[];
  }

  private row(id: string): SessionRow | undefined {
    return this.db.prepare("SELECT * FROM sessions WHERE id = ?").get(id) as SessionRow | undefined;
  }

  private must(id: string): SessionRow {
    const row = this.row(id);
    if (!row) throw unknownSession(id);
    return row;
  }

  async create(input: NewSession): Promise<Session> {
    const parent = input.parent ? fromRow(this.must(input.parent)) : undefined;
    const s = freshSession(input, parent);
    if (this.row(s.id)) throw new WardenError("ALREADY_EXISTS", `session ${s.id} exists`);
    this.db
      .prepare(
        "INSERT INTO sessions (id, agent, parent, root, status, task, answer, error, model, created, updated, spent, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        s.id,
        s.agent,
        s.parent,
        s.root,
        s.status,
        s.task,
        s.answer,
        s.error,
        s.model,
        s.created,
        s.updated,
        JSON.stringify(s.spent),
        thisProcess(),
      );
    return s;
  }

  async get(id: string): Promise<Session | undefined> {
    const row = this.row(id);
    return row ? fromRow(row) : undefined;
  }

  async list(): Promise<Session[]> {
    return this.all<SessionRow>("SELECT * FROM sessions ORDER BY created, rowid").map(fromRow);
  }

  async children(parent: string): Promise<Session[]> {
    return this.all<SessionRow>(
      "SELECT * FROM sessions WHERE parent = ? ORDER BY created, rowid",
      parent,
    ).map(fromRow);
  }

  async update(id: string, patch: SessionPatch): Promise<Session> {
    const row = this.must(id);
    const owner = ownerAfter(patch, row.owner);
    const s: Session = { ...fromRow({ ...row, owner: null }), ...patch, updated: Date.now() };
    this.db
      .prepare(
        "UPDATE sessions SET status = ?, answer = ?, error = ?, model = ?, spent = ?, updated = ?, owner = ? WHERE id = ?",
      )
      .run(s.status, s.answer, s.error, s.model, JSON.stringify(s.spent), s.updated, owner, id);
    return asRead(s, owner);
  }

  async append(id: string, message: Message): Promise<number> {
    this.must(id);
    // One statement, so the seq is taken and the row written atomically.
    const row = this.db
      .prepare(
        "INSERT INTO messages (session, seq, message) SELECT ?, COALESCE(MAX(seq), 0) + 1, ? FROM messages WHERE session = ? RETURNING seq",
      )
      .get(id, JSON.stringify(message), id) as { seq: number };
    return row.seq;
  }

  async messages(id: string, range: { from?: number; to?: number } = {}): Promise<Entry[]> {
    this.must(id);
    return this.all<{ seq: number; message: string }>(
      "SELECT seq, message FROM messages WHERE session = ? AND seq >= ? AND seq <= ? ORDER BY seq",
      id,
      range.from ?? 1,
      range.to ?? Number.MAX_SAFE_INTEGER,
    ).map((r) => ({ seq: r.seq, message: JSON.parse(r.message) as Message }));
  }

  async putStep(id: string, step: Step): Promise<void> {
    this.must(id);
    this.db
      .prepare("INSERT OR REPLACE INTO steps (session, idx, step) VALUES (?, ?, ?)")
      .run(id, step.index, JSON.stringify(step));
  }

  async steps(id: string): Promise<Step[]> {
    this.must(id);
    return this.all<{ step: string }>("SELECT step FROM steps WHERE session = ? ORDER BY idx", id).map(
      (r) => JSON.parse(r.step) as Step,
    );
  }

  async addCompaction(id: string, compaction: Compaction): Promise<void> {
    this.must(id);
    this.db
      .prepare("INSERT INTO compactions (session, idx, compaction) VALUES (?, ?, ?)")
      .run(id, compaction.index, JSON.stringify(compaction));
  }

  async compactions(id: string): Promise<Compaction[]> {
    this.must(id);
    return this.all<{ compaction: string }>(
      "SELECT compaction FROM compactions WHERE session = ? ORDER BY idx",
      id,
    ).map((r) => JSON.parse(r.compaction) as Compaction);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
