// The session-store conformance table: every store (memory, SQLite) keeps sessions, messages, steps and
// compactions the same way; the SQLite store also across a reopen.
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteSessionStore } from "../../runtime/agents/sqlite-store.ts";
import { MemorySessionStore, type SessionStore } from "../../runtime/agents/store.ts";
import { tempDir } from "../support/tools.ts";

const STORES: Array<[string, () => SessionStore]> = [
  ["memory", () => new MemorySessionStore()],
  ["sqlite", () => new SqliteSessionStore(join(tempDir("warden-sessions-"), "sessions.sqlite"))],
];

const open: SessionStore[] = [];
afterEach(() => {
  for (const store of open.splice(0)) store.close();
});

describe.each(STORES)("session store: %s", (_name, make) => {
  const store = () => {
    const s = make();
    open.push(s);
    return s;
  };

  it("creates sessions with a random URL-safe id, a root and running status", async () => {
    const s = store();
    const a = await s.create({ agent: "reader", task: "t", model: "scripted:x" });
    const b = await s.create({ agent: "reader", task: "t", model: "scripted:x" });
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    expect(a.id).not.toBe(b.id);
    expect(a).toMatchObject({ agent: "reader", parent: null, root: a.id, status: "running", answer: null });
    expect(await s.get(a.id)).toEqual(a);
    expect(await s.get("nope")).toBeUndefined();
    expect((await s.list()).map((x) => x.id)).toEqual([a.id, b.id]);
  });

  it("finds children by parent, and a child's root is its parent's root", async () => {
    const s = store();
    const root = await s.create({ agent: "lead", task: "t", model: "m" });
    const child = await s.create({ agent: "helper", task: "c", model: "m", parent: root.id });
    const grandchild = await s.create({ agent: "helper", task: "g", model: "m", parent: child.id });
    expect((await s.children(root.id)).map((x) => x.id)).toEqual([child.id]);
    expect(grandchild.root).toBe(root.id);
    await expect(s.create({ agent: "x", task: "t", model: "m", parent: "missing" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("stores each message once, in order, numbered from 1, and reads ranges", async () => {
    const s = store();
    const { id } = await s.create({ agent: "a", task: "t", model: "m" });
    expect(await s.append(id, { role: "system", content: "be brief" })).toBe(1);
    expect(await s.append(id, { role: "user", content: "hi" })).toBe(2);
    expect(
      await s.append(id, {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "c1", name: "read", arguments: { path: "a" } }],
      }),
    ).toBe(3);
    const all = await s.messages(id);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(all[2]!.message).toEqual({
      role: "assistant",
      content: "",
      toolCalls: [{ id: "c1", name: "read", arguments: { path: "a" } }],
    });
    expect((await s.messages(id, { from: 2, to: 2 })).map((e) => e.message.content)).toEqual(["hi"]);
    // Copies: changing what a read returned changes nothing stored.
    all[0]!.message.content = "changed";
    expect((await s.messages(id, { to: 1 }))[0]!.message.content).toBe("be brief");
    await expect(s.append("missing", { role: "user", content: "x" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("updates status, answer, error, model and spending", async () => {
    const s = store();
    const { id } = await s.create({ agent: "a", task: "t", model: "m" });
    await s.update(id, { status: "done", answer: "42", spent: { turns: 2, tokens: 100, cost: 0 } });
    expect(await s.get(id)).toMatchObject({ status: "done", answer: "42", spent: { turns: 2, tokens: 100 } });
    await s.update(id, { status: "failed", error: "LIMIT_EXCEEDED", model: "other" });
    expect(await s.get(id)).toMatchObject({ status: "failed", error: "LIMIT_EXCEEDED", model: "other" });
  });

  it("writes steps, a tool step again with its outcome, and compactions", async () => {
    const s = store();
    const { id } = await s.create({ agent: "a", task: "t", model: "m" });
    const tool = {
      kind: "tool",
      index: 1,
      callId: "c1",
      name: "read",
      inputDigest: "d",
      outcome: "started",
    } as const;
    await s.putStep(id, {
      kind: "model",
      index: 0,
      seenTo: 2,
      requestDigest: "r",
      seq: 3,
      completion: {
        provider: "scripted",
        model: "scripted",
        message: { role: "assistant", content: "x" },
        stopReason: "end",
        usage: { inputTokens: 1, outputTokens: 1 },
      },
    });
    await s.putStep(id, tool);
    await s.putStep(id, { ...tool, outcome: "ok", result: '"text"' });
    const steps = await s.steps(id);
    expect(steps.map((x) => x.kind)).toEqual(["model", "tool"]);
    expect(steps[1]).toMatchObject({ outcome: "ok", result: '"text"' });
    await s.addCompaction(id, {
      index: 0,
      strategy: "drop-tool-results",
      at: 5,
      replaced: [4],
      tokensBefore: 10,
      tokensAfter: 5,
    });
    expect(await s.compactions(id)).toEqual([
      { index: 0, strategy: "drop-tool-results", at: 5, replaced: [4], tokensBefore: 10, tokensAfter: 5 },
    ]);
  });
});

describe("sqlite session store", () => {
  it("keeps everything across a reopen, in WAL mode with synchronous=FULL", async () => {
    const file = join(tempDir("warden-sessions-"), "sessions.sqlite");
    const first = new SqliteSessionStore(file);
    const { id } = await first.create({ agent: "a", task: "t", model: "m" });
    await first.append(id, { role: "user", content: "kept" });
    await first.putStep(id, {
      kind: "tool",
      index: 0,
      callId: "c",
      name: "n",
      inputDigest: "d",
      outcome: "started",
    });
    first.close();
    const second = new SqliteSessionStore(file);
    expect((await second.messages(id)).map((e) => e.message.content)).toEqual(["kept"]);
    expect(await second.steps(id)).toHaveLength(1);
    expect(await second.append(id, { role: "user", content: "next" })).toBe(2);
    second.close();
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(file);
    expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    db.close();
  });
});

describe("who runs a session", () => {
  it("a running session reads as interrupted once its owner is gone (a reused pid too); resume's write makes it running again", async () => {
    const file = join(tempDir("warden-sessions-"), "sessions.sqlite");
    const store = new SqliteSessionStore(file);
    open.push(store);
    const mine = await store.create({ agent: "a", task: "t", model: "m" });
    const reused = await store.create({ agent: "a", task: "t", model: "m" });
    const elsewhere = await store.create({ agent: "a", task: "t", model: "m" });
    const old = await store.create({ agent: "a", task: "t", model: "m" });
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(file);
    const setOwner = (id: string, owner: string | null) =>
      db.prepare("UPDATE sessions SET owner = ? WHERE id = ?").run(owner, id);
    // This process's pid, but another start time: a process that had the pid before, and is gone.
    setOwner(reused.id, `${hostname()}/${process.pid}/1`);
    setOwner(elsewhere.id, `another-host/${process.pid}/1`);
    setOwner(old.id, null);
    db.close();
    const status = async (id: string) => (await store.get(id))?.status;
    expect(await status(mine.id)).toBe("running");
    expect(await status(reused.id)).toBe("interrupted");
    // What cannot be checked from here is not called gone.
    expect(await status(elsewhere.id)).toBe("running");
    expect(await status(old.id)).toBe("running");
    expect((await store.list()).map((s) => s.status)).toEqual([
      "running",
      "interrupted",
      "running",
      "running",
    ]);
    // A write that is not a resume leaves the owner as it was; setting it running takes it over.
    expect((await store.update(reused.id, { model: "other" })).status).toBe("interrupted");
    expect((await store.update(reused.id, { status: "running" })).status).toBe("running");
    expect(await status(reused.id)).toBe("running");
  });
});
