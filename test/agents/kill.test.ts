// Nothing lost: the kernel killed with -9 while an agent's tool runs, then `warden agent resume` from the journal.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { CLI, runCli } from "../support/cli.ts";
import { tempDir } from "../support/tools.ts";
import { HANG_MS } from "../support/wait.ts";

const SLOW_TOOL = `import { defineTool, z } from "warden/sdk";
export default defineTool({
  name: "slow",
  description: "Marks that it started, then sleeps.",
  input: z.object({ ms: z.number() }),
  output: z.object({ slept: z.boolean() }),
  capabilities: { files: { type: "fs", rights: ["write", "create"] }, clock: { type: "clock", rights: ["sleep"] } },
  async run({ ms }, caps) {
    await caps.files.writeText("started", "1");
    await caps.clock.sleep(ms);
    return { slept: true };
  },
});
`;

const POLICY = `version: 1
tools:
  slow:
    source: ./slow.ts
    limits: { timeoutMs: 120000 }
    grants:
      files: { fs: { root: ./marks, rights: [write, create] } }
      clock: { clock: { rights: [sleep] } }
agents:
  worker:
    instructions: Do the slow thing, then say you are done.
    model: scripted:./worker.script.yaml
    tools: [slow]
`;

const SCRIPT = `worker:
  - tool_calls: [{ name: slow, arguments: { ms: 60000 } }]
  - expect: is unknown
    text: done, though the slow call's outcome is unknown
`;

// What resume --model moves the session to: the same agent's turns in another file (the turn is the number of
// model calls already journaled, so the first is never asked for).
const OTHER = `worker:
  - text: never asked for
  - expect: is unknown
    text: done on the other model
`;

interface Shown {
  status: string;
  messages: Array<{ role: string; content: string; tool_calls?: unknown[]; tool_call_id?: string }>;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + HANG_MS * 4;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`${what}: still not true`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("kill -9 mid-session, then resume on another model: no acknowledged message lost or duplicated, the running call not run again", async () => {
  const dir = tempDir();
  const state = join(dir, "state");
  const marks = join(dir, "marks");
  mkdirSync(marks);
  writeFileSync(join(dir, "slow.ts"), SLOW_TOOL);
  writeFileSync(join(dir, "policy.yaml"), POLICY);
  writeFileSync(join(dir, "worker.script.yaml"), SCRIPT);
  writeFileSync(join(dir, "other.script.yaml"), OTHER);
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const kernel = spawn(
    process.execPath,
    [CLI, "agent", "run", "worker", "--policy", "policy.yaml", "--task", "go", "--state", state],
    { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  kernel.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
  });
  const exited = new Promise<NodeJS.Signals | null>((done) =>
    kernel.on("exit", (_code, signal) => done(signal)),
  );
  try {
    // The tool writes its mark once it runs, and then sleeps for a minute: the kernel dies inside the call.
    await waitFor(() => existsSync(join(marks, "started")), "the slow tool started");
  } finally {
    kernel.kill("SIGKILL");
  }
  expect(await exited).toBe("SIGKILL");
  expect(stdout).toBe(""); // nothing was acknowledged to the caller

  const ps = await runCli(["agent", "ps", "--state", state, "--json"], { cwd: dir });
  const [session] = JSON.parse(ps.stdout) as Array<{ session: string; status: string }>;
  // Its kernel is gone: not running, though the journal's last write said so, until it is resumed.
  expect(session!.status).toBe("interrupted");
  const before = JSON.parse(
    (await runCli(["agent", "show", session!.session, "--state", state, "--json"], { cwd: dir })).stdout,
  ) as Shown;
  expect(before.messages.map((m) => m.role)).toEqual(["system", "user", "assistant"]);
  expect(before.status).toBe("interrupted");

  rmSync(join(marks, "started"));
  const resumed = await runCli(
    ["agent", "resume", session!.session, "--state", state, "--model", "scripted:./other.script.yaml"],
    { cwd: dir },
  );
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(JSON.parse(resumed.stdout)).toEqual({
    session: session!.session,
    answer: "done on the other model",
  });
  // The call whose outcome was never journaled was not run again (the tool is not idempotent).
  expect(existsSync(join(marks, "started"))).toBe(false);

  const after = JSON.parse(
    (await runCli(["agent", "show", session!.session, "--state", state, "--json"], { cwd: dir })).stdout,
  ) as Shown;
  expect(after.status).toBe("done");
  expect(after.messages.slice(0, 3)).toEqual(before.messages);
  expect(after.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool", "assistant"]);
  expect(after.messages[3]!.content).toContain("is unknown (the kernel stopped while it ran)");
  expect(after.messages[3]!.tool_call_id).toBe((before.messages[2]!.tool_calls![0] as { id: string }).id);
}, 120_000);
