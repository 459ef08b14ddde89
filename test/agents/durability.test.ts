// Nothing lost: a kernel process killed with -9 while an agent's tool runs, then resumed in a new process. The
// answer comes, no acknowledged message is lost or written twice, and the tool that was running is not run again
// unless it is idempotent (the model is told its outcome is unknown instead).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteSessionStore } from "../../runtime/agents/sqlite-store.ts";
import type { Entry } from "../../runtime/agents/store.ts";
import { REPO } from "../support/cli.ts";
import { tempDir } from "../support/tools.ts";

const SCRIPT = join(REPO, "test/support/agent-process.ts");

function start(dir: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--disable-warning=ExperimentalWarning", SCRIPT, dir, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function finished(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  let stdout = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout })));
}

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function journal(dir: string): Promise<{ session: string; status: string; messages: Entry[] }> {
  const store = new SqliteSessionStore(join(dir, "state", "sessions.sqlite"));
  try {
    const [session] = await store.list();
    if (!session) throw new Error("no session journaled");
    return { session: session.id, status: session.status, messages: await store.messages(session.id) };
  } finally {
    store.close();
  }
}

describe.each([
  ["not idempotent, the agent in-process", "0", "v8:in-process"],
  ["idempotent, the agent in-process", "1", "v8:in-process"],
  ["not idempotent, the agent in a cell", "0", "v8:cell"],
])("kill -9 mid tool call, then resume (%s)", (_label, idempotent, backend) => {
  it("loses and duplicates nothing acknowledged, and answers", async () => {
    const dir = tempDir("warden-kill-");
    const env = { SLOW_IDEMPOTENT: idempotent, AGENT_BACKEND: backend };
    const child = start(dir, ["run"], env);
    const exit = finished(child);
    await until(() => existsSync(join(dir, "marks", "started")), "the slow tool to start");
    const before = await journal(dir);
    child.kill("SIGKILL");
    expect((await exit).signal).toBe("SIGKILL");

    // Everything acknowledged before the kill is there, exactly once.
    const after = await journal(dir);
    // The journal's last write said running; its kernel is gone, so every read says interrupted.
    expect(before.status).toBe("running");
    expect(after.status).toBe("interrupted");
    expect(after.messages).toEqual(before.messages);
    expect(after.messages.map((e) => e.message.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
    ]);

    const resumed = start(dir, ["resume", after.session], env);
    const result = await finished(resumed);
    expect(result.code, result.stdout).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toEqual({ session: after.session, answer: "finished" });

    const done = await journal(dir);
    expect(done.status).toBe("done");
    expect(done.messages.slice(0, 5)).toEqual(after.messages);
    expect(done.messages.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const toolMessages = done.messages.filter((e) => e.message.role === "tool");
    const ids = toolMessages.map((e) => (e.message.role === "tool" ? e.message.toolCallId : ""));
    expect(new Set(ids).size).toBe(ids.length);
    const slowResult = toolMessages[1]!.message;
    const runs = readFileSync(join(dir, "marks", "runs"), "utf8").length;
    if (idempotent === "1") {
      // Run again on resume (its second run does not sleep), and its result reached the model.
      expect(runs).toBe(2);
      expect(slowResult).toMatchObject({ content: "slept" });
    } else {
      expect(runs).toBe(1);
      expect(slowResult).toMatchObject({ isError: true });
      expect(slowResult.content).toContain("is unknown (the kernel stopped while it ran)");
    }
  }, 120_000);
});
