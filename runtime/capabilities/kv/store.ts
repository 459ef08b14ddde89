// Where kv values live: in memory, or in a node:sqlite file under the runtime's state directory.
import { DatabaseSync } from "node:sqlite";

export interface KvStore {
  get(namespace: string, key: string): string | undefined;
  set(namespace: string, key: string, value: string): void;
  delete(namespace: string, key: string): boolean;
  list(namespace: string, prefix: string, limit: number): string[];
  /** Bytes of keys plus values held by a namespace, for its quota. */
  size(namespace: string): number;
  close(): void;
}

export class MemoryKvStore implements KvStore {
  private readonly spaces = new Map<string, Map<string, string>>();

  private space(namespace: string): Map<string, string> {
    let space = this.spaces.get(namespace);
    if (!space) {
      space = new Map();
      this.spaces.set(namespace, space);
    }
    return space;
  }

  get(namespace: string, key: string): string | undefined {
    return this.spaces.get(namespace)?.get(key);
  }
  set(namespace: string, key: string, value: string): void {
    this.space(namespace).set(key, value);
  }
  delete(namespace: string, key: string): boolean {
    return this.spaces.get(namespace)?.delete(key) ?? false;
  }
  list(namespace: string, prefix: string, limit: number): string[] {
    const keys = [...(this.spaces.get(namespace)?.keys() ?? [])].filter((k) => k.startsWith(prefix));
    return keys.sort().slice(0, limit);
  }
  size(namespace: string): number {
    let total = 0;
    for (const [k, v] of this.spaces.get(namespace) ?? [])
      total += Buffer.byteLength(k) + Buffer.byteLength(v);
    return total;
  }
  close(): void {
    this.spaces.clear();
  }
}

export class SqliteKvStore implements KvStore {
  private readonly db: DatabaseSync;

  constructor(file: string) {
    this.db = new DatabaseSync(file);
    // WAL + synchronous=FULL: a set that returned is on disk, and a crash loses no acknowledged value.
    this.db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ns, key))",
    );
  }

  get(namespace: string, key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM kv WHERE ns = ? AND key = ?").get(namespace, key);
    return row ? String(row.value) : undefined;
  }
  set(namespace: string, key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
      )
      .run(namespace, key, value);
  }
  delete(namespace: string, key: string): boolean {
    return Number(this.db.prepare("DELETE FROM kv WHERE ns = ? AND key = ?").run(namespace, key).changes) > 0;
  }
  list(namespace: string, prefix: string, limit: number): string[] {
    // Range scan instead of LIKE, so "%" and "_" in a prefix are plain characters.
    const rows = this.db
      .prepare("SELECT key FROM kv WHERE ns = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?")
      .all(namespace, prefix, `${prefix}\u{10FFFF}`, limit);
    return rows.map((r) => String(r.key));
  }
  size(namespace: string): number {
    const row = this.db
      .prepare(
        "SELECT COALESCE(SUM(LENGTH(CAST(key AS BLOB)) + LENGTH(CAST(value AS BLOB))), 0) AS n FROM kv WHERE ns = ?",
      )
      .get(namespace);
    return Number(row?.n ?? 0);
  }
  close(): void {
    this.db.close();
  }
}
