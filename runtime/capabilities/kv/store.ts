// Where kv values live: in memory, or in a node:sqlite file under the runtime's state directory.
import { DatabaseSync } from "node:sqlite";
import { WardenError } from "../../errors.ts";

export interface KvStore {
  get(namespace: string, key: string): string | undefined;
  set(namespace: string, key: string, value: string): void;
  delete(namespace: string, key: string): boolean;
  list(namespace: string, prefix: string, limit: number): string[];
  /** Bytes of keys plus values held by a namespace, for its quota. */
  size(namespace: string): number;
  close(): void;
}

/**
 * A lone surrogate has no UTF-8 form: SQLite would store "a\ud800" and "a\ud801" both as "a\ufffd" and merge
 * them, where a Map keeps them apart. Every store refuses such keys, so all stores agree on what a key is.
 */
function checkKey(key: string): string {
  if (!key.isWellFormed())
    throw new WardenError("INVALID_ARGUMENT", "a kv key holds a lone surrogate (ill-formed UTF-16)");
  return key;
}

/** Code point order, which is UTF-8 byte order: the order SQLite's BINARY collation lists keys in. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The least string after every string that starts with `prefix` (undefined: none is), in code point order. */
function after(prefix: string): string | undefined {
  const points = [...prefix].map((c) => c.codePointAt(0)!);
  while (points.length > 0 && points[points.length - 1] === 0x10ffff) points.pop();
  if (points.length === 0) return undefined;
  const last = points.pop()! + 1;
  points.push(last === 0xd800 ? 0xe000 : last);
  return String.fromCodePoint(...points);
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
    return this.spaces.get(namespace)?.get(checkKey(key));
  }
  set(namespace: string, key: string, value: string): void {
    this.space(namespace).set(checkKey(key), value);
  }
  delete(namespace: string, key: string): boolean {
    return this.spaces.get(namespace)?.delete(checkKey(key)) ?? false;
  }
  list(namespace: string, prefix: string, limit: number): string[] {
    checkKey(prefix);
    const keys = [...(this.spaces.get(namespace)?.keys() ?? [])].filter((k) => k.startsWith(prefix));
    return keys.sort(byCodePoint).slice(0, limit);
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
    const row = this.db
      .prepare("SELECT value FROM kv WHERE ns = ? AND key = ?")
      .get(namespace, checkKey(key));
    return row ? String(row.value) : undefined;
  }
  set(namespace: string, key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
      )
      .run(namespace, checkKey(key), value);
  }
  delete(namespace: string, key: string): boolean {
    return (
      Number(
        this.db.prepare("DELETE FROM kv WHERE ns = ? AND key = ?").run(namespace, checkKey(key)).changes,
      ) > 0
    );
  }
  list(namespace: string, prefix: string, limit: number): string[] {
    // Range scan instead of LIKE, so "%" and "_" in a prefix are plain characters. The bound is exact: a
    // key may itself hold U+10FFFF after the prefix.
    const end = after(checkKey(prefix));
    const rows =
      end === undefined
        ? this.db
            .prepare("SELECT key FROM kv WHERE ns = ? AND key >= ? ORDER BY key LIMIT ?")
            .all(namespace, prefix, limit)
        : this.db
            .prepare("SELECT key FROM kv WHERE ns = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?")
            .all(namespace, prefix, end, limit);
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
