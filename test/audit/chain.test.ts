// The durable audit chain: what a record holds, and `verify` naming the first record edited, deleted or moved.
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, test } from "vitest";
import { canonicalJson } from "../../runtime/audit/canonical.ts";
import { chainHash, GENESIS } from "../../runtime/audit/chain.ts";
import { SqliteAuditSink } from "../../runtime/audit/sqlite-sink.ts";
import { verifyChain } from "../../runtime/audit/verify.ts";
import { AuditLog } from "../../runtime/audit.ts";
import { tempDir } from "../support/tools.ts";

function writeLog(count: number): string {
  const file = join(tempDir("warden-audit-"), "audit.sqlite");
  const sink = new SqliteAuditSink(file);
  const log = new AuditLog([sink]);
  for (let i = 1; i <= count; i++) {
    log.record({
      event: "call",
      tool: "t",
      sandbox: "sb1",
      op: "readText",
      summary: `readText f${i}`,
      decision: "allow",
    });
  }
  log.close();
  return file;
}

function withDb<T>(file: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe("the chain", () => {
  test("each row's hash is sha256(prev + canonical JSON), its id inside, linked from the genesis hash", () => {
    const file = writeLog(3);
    const rows = withDb(file, (db) =>
      db.prepare("SELECT id, record, prev, hash FROM audit ORDER BY id").all(),
    ) as {
      id: number;
      record: string;
      prev: string;
      hash: string;
    }[];
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(rows[0]!.prev).toBe(GENESIS);
    for (const [i, row] of rows.entries()) {
      const parsed = JSON.parse(row.record) as Record<string, unknown>;
      expect(row.record).toBe(canonicalJson(parsed));
      expect(parsed).toMatchObject({ id: row.id, tool: "t", summary: `readText f${i + 1}` });
      expect(parsed).not.toHaveProperty("seq");
      expect(row.hash).toBe(chainHash(row.prev, row.record));
      if (i > 0) expect(row.prev).toBe(rows[i - 1]!.hash);
    }
    expect(withDb(file, verifyChain)).toEqual({ ok: true, records: 3, head: rows[2]!.hash });
  });

  test("two sinks on one file (two processes sharing a state dir) extend one chain", () => {
    const file = join(tempDir("warden-audit-"), "audit.sqlite");
    const a = new AuditLog([new SqliteAuditSink(file)]);
    const b = new AuditLog([new SqliteAuditSink(file)]);
    for (let i = 0; i < 5; i++) {
      a.record({ event: "call", tool: "a", sandbox: "sb1", decision: "allow" });
      b.record({ event: "call", tool: "b", sandbox: "sb1", decision: "deny" });
    }
    a.close();
    b.close();
    expect(withDb(file, verifyChain)).toMatchObject({ ok: true, records: 10 });
  });

  test("an empty log verifies, with the genesis hash as its head", () => {
    const file = writeLog(0);
    expect(withDb(file, verifyChain)).toEqual({ ok: true, records: 0, head: GENESIS });
  });
});

describe("verify names the first record that was tampered with", () => {
  const cases: {
    name: string;
    tamper: (db: DatabaseSync) => void;
    id: number;
    tampering: string;
    message: string;
  }[] = [
    {
      name: "a record's text edited",
      tamper: (db) => db.exec(`UPDATE audit SET record = replace(record, '"allow"', '"deny"') WHERE id = 4`),
      id: 4,
      tampering: "edited",
      message: "record 4 was edited: its contents no longer match its hash",
    },
    {
      name: "a record edited and its own hash recomputed",
      tamper: (db) => {
        const row = db.prepare("SELECT record, prev FROM audit WHERE id = 4").get() as {
          record: string;
          prev: string;
        };
        const text = row.record.replace('"allow"', '"deny"');
        db.prepare("UPDATE audit SET record = ?, hash = ? WHERE id = 4").run(text, chainHash(row.prev, text));
      },
      id: 4,
      tampering: "edited",
      message: "record 4 was edited: record 5 links to a different hash than record 4 now has",
    },
    {
      name: "a record deleted",
      tamper: (db) => db.exec("DELETE FROM audit WHERE id = 4"),
      id: 4,
      tampering: "deleted",
      message: "record 4 was deleted: the chain goes from record 3 to 5",
    },
    {
      name: "a record deleted and the rest renumbered",
      tamper: (db) => {
        db.exec("DELETE FROM audit WHERE id = 4");
        for (let id = 5; id <= 8; id++) db.exec(`UPDATE audit SET id = ${id - 1} WHERE id = ${id}`);
      },
      id: 4,
      tampering: "deleted",
      message: "record 4 was deleted: record 5 was renumbered into its place",
    },
    {
      name: "two records swapped",
      tamper: (db) => {
        db.exec("UPDATE audit SET id = -1 WHERE id = 4");
        db.exec("UPDATE audit SET id = 4 WHERE id = 5");
        db.exec("UPDATE audit SET id = 5 WHERE id = -1");
      },
      id: 4,
      tampering: "moved",
      message: "record 4 was moved: the row in place 4 is record 5",
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const file = writeLog(8);
      withDb(file, c.tamper);
      expect(withDb(file, verifyChain)).toEqual({
        ok: false,
        records: 3,
        id: c.id,
        tampering: c.tampering,
        message: c.message,
      });
    });
  }
});
