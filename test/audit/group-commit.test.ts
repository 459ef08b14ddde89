// Group commit: records of concurrent calls share one commit (one fsync), and none is acknowledged before
// it is on disk, even when the writer is killed at a random moment.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { SqliteAuditSink } from "../../runtime/audit/sqlite-sink.ts";
import { verifyChain } from "../../runtime/audit/verify.ts";
import { type AuditInput, AuditLog } from "../../runtime/audit.ts";
import { createRuntime } from "../../runtime/index.ts";
import { ENGINES, tempDir, writeTool } from "../support/tools.ts";

const WRITER = fileURLToPath(new URL("./support/group-writer.ts", import.meta.url));
const input = (summary: string): AuditInput => ({
  event: "call",
  tool: "t",
  sandbox: "sb1",
  op: "get",
  summary,
  decision: "allow",
});

function rows(dir: string): string[] {
  const db = new DatabaseSync(join(dir, "audit.sqlite"));
  try {
    expect(verifyChain(db)).toMatchObject({ ok: true });
    return (db.prepare("SELECT record FROM audit ORDER BY id").all() as Array<{ record: string }>).map(
      (row) => (JSON.parse(row.record) as { summary?: string }).summary ?? "",
    );
  } finally {
    db.close();
  }
}

test("records committed in one turn share one commit, and each is durable when its promise resolves", async () => {
  const dir = tempDir("warden-audit-group-");
  const commits: number[] = [];
  const audit = new AuditLog([
    new SqliteAuditSink(join(dir, "audit.sqlite"), { onCommit: (n) => commits.push(n) }),
  ]);
  const tags = Array.from({ length: 20 }, (_, i) => `r${i}`);
  const pending = tags.map((tag) => audit.commit(input(tag)));
  expect(commits).toEqual([]); // nothing acknowledged yet, nothing committed yet
  for (const [i, promise] of pending.entries()) {
    await promise;
    expect(rows(dir)).toContain(tags[i]); // on disk by the time it resolves
  }
  expect(commits).toEqual([20]);
  // A synchronous record commits what was staged before it, in order, and itself.
  const late = audit.commit(input("staged"));
  audit.record(input("sync"));
  expect(rows(dir).slice(-2)).toEqual(["staged", "sync"]);
  await late;
  expect(commits).toEqual([20, 2]);
  audit.close();
});

test("a commit that fails rejects every call waiting on it", async () => {
  const dir = tempDir("warden-audit-group-");
  const sink = new SqliteAuditSink(join(dir, "audit.sqlite"));
  const audit = new AuditLog([sink]);
  sink.close(); // the database is gone: every write fails
  const results = await Promise.allSettled([audit.commit(input("a")), audit.commit(input("b"))]);
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
});

describe.each(ENGINES)("%s: concurrent tool calls", (engine) => {
  test("N concurrent calls with a handle call each take fewer than N commits, every record kept", async () => {
    const dir = tempDir("warden-audit-group-");
    const commits: number[] = [];
    const sink = new SqliteAuditSink(join(dir, "audit.sqlite"), { onCommit: (n) => commits.push(n) });
    const runtime = createRuntime({ cwd: dir, isolation: "in-process", auditSinks: [sink], log: () => {} });
    try {
      const file = writeTool(dir, {
        capabilities: { kv: { type: "kv" } },
        run: `return { v: await caps.kv.get("k") };`,
      });
      const n = 8;
      const tools = await Promise.all(
        Array.from({ length: n }, () => runtime.loadTool(file, { grants: { kv: "kv" }, backend: engine })),
      );
      commits.length = 0;
      await Promise.all(tools.map((tool) => tool.call({})));
      // Each call leaves two records (the handle call's write-ahead "allow" and the call's own).
      const records = commits.reduce((a, b) => a + b, 0);
      expect(records).toBe(2 * n);
      // On v8 every sandbox's request reaches the kernel in the same turns, so commits are shared. In-process
      // QuickJS runs each sandbox on a thread of its own (isolates/thread/): on a busy machine their requests
      // arrive in turns of their own, and sharing is likely but not guaranteed, so only durability is pinned.
      if (engine === "v8") expect(commits.length).toBeLessThan(n);
      expect(runtime.auditRecords.filter((r) => r.op === "get" && r.decision === "allow")).toHaveLength(n);
    } finally {
      await runtime.close();
    }
  }, 60_000);
});

function startWriter(dir: string, name: string, acked: Set<string>): Promise<ChildProcess> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [WRITER, dir, name], { env, stdio: ["ignore", "pipe", "inherit"] });
  let buffered = "";
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "ready") resolve(child);
        else acked.add(line);
      }
    });
  });
}

test("SIGKILL at random moments never loses a record whose commit was acknowledged", async () => {
  const dir = tempDir("warden-audit-group-crash-");
  const acked = new Set<string>();
  for (let round = 0; round < 6; round++) {
    const writers = await Promise.all(
      Array.from({ length: round % 2 === 0 ? 1 : 2 }, (_, i) => startWriter(dir, `w${round}.${i}`, acked)),
    );
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 200));
    await Promise.all(
      writers.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once("close", () => resolve());
            child.kill("SIGKILL");
          }),
      ),
    );
    const kept = new Set(rows(dir));
    const lost = [...acked].filter((tag) => !kept.has(tag));
    expect(lost).toEqual([]);
  }
  expect(acked.size).toBeGreaterThan(0);
}, 60_000);
