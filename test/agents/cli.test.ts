// `warden agent run|ps|show|resume|replay`: the exact forms the issue fixes, their help, and usage errors.
import { execFile } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { expectCodedFailure, REPO, runCli } from "../support/cli.ts";
import { tempDir } from "../support/tools.ts";

describe("usage", () => {
  test("each agent command has help, and warden --help lists them", async () => {
    const main = await runCli(["--help"]);
    for (const word of ["run", "ps", "show", "resume", "replay"])
      expect(main.stdout).toContain(`agent ${word}`);
    const run = await runCli(["agent", "run", "--help"]);
    expect(run.stdout).toContain("warden agent run NAME --policy FILE --task TEXT [--state DIR]");
    const resume = await runCli(["agent", "resume", "--help"]);
    expect(resume.stdout).toContain("warden agent resume SESSION [--state DIR] [--model SPEC]");
  });

  test("a missing policy, task or session is a usage error on the last stderr line, exit 2", async () => {
    const state = tempDir();
    const cases: Array<[string[], string]> = [
      [["agent", "run", "reader", "--task", "x", "--state", state], "--policy FILE is required"],
      [["agent", "run", "reader", "--policy", "p.yaml", "--state", state], "--task TEXT is required"],
      [["agent", "run", "--policy", "p.yaml", "--task", "x"], "takes one agent NAME, got 0"],
      [["agent", "show", "--state", state], "takes one SESSION, got 0"],
      [["agent", "resume", "a", "b", "--state", state], "takes one SESSION, got 2"],
      [["agent", "ps", "--state", state, "--colour"], "Unknown option '--colour'"],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.error?.code).toBe("USAGE");
      expect(r.error?.message).toContain(message);
    }
  });
});

// ---- end to end, on the example policy and the scripted model ----

const EXAMPLE = join(REPO, "examples/agents/policy.yaml");
const TASK = "What does hello.txt say?";
const ANSWER = 'hello.txt says "Hello from Warden." (I could not use counter; this agent does not hold it.)';

interface Shown {
  session: string;
  agent: string;
  status: string;
  messages: Array<{ role: string; content: string; tool_calls?: unknown[]; tool_call_id?: string }>;
  children: unknown[];
}

async function show(session: string, state: string): Promise<Shown> {
  const r = await runCli(["agent", "show", session, "--state", state, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Shown;
}

describe("agent run, ps, show, replay and resume", () => {
  test("run prints {session, answer}; ps and show read the journal; replay matches; resume of a finished session answers the same", async () => {
    const state = tempDir();
    const run = await runCli([
      "agent",
      "run",
      "reader",
      "--policy",
      EXAMPLE,
      "--task",
      TASK,
      "--state",
      state,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.endsWith("\n")).toBe(true);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const out = JSON.parse(run.stdout) as { session: string; answer: string };
    expect(Object.keys(out)).toEqual(["session", "answer"]);
    expect(out.answer).toBe(ANSWER);
    expect(out.session).toMatch(/^[A-Za-z0-9_-]+$/);

    const ps = await runCli(["agent", "ps", "--state", state, "--json"]);
    expect(JSON.parse(ps.stdout)).toEqual([
      { session: out.session, agent: "reader", status: "done", parent: null },
    ]);

    const shown = await show(out.session, state);
    expect(shown).toMatchObject({ session: out.session, agent: "reader", status: "done", children: [] });
    expect(shown.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(shown.messages[1]).toEqual({ role: "user", content: TASK });
    for (const m of shown.messages) {
      const keys = Object.keys(m);
      expect(
        keys.every((k) => ["role", "content", "tool_calls", "tool_call_id"].includes(k)),
        keys.join(),
      ).toBe(true);
    }
    // The two tools it holds answered; the third, which the policy runs but this agent does not hold, was
    // refused, and the refusal reached the model as a tool error it read (the script's last turn expects it).
    expect(JSON.parse(shown.messages[3]!.content)).toEqual({ names: ["hello.txt"] });
    expect(JSON.parse(shown.messages[5]!.content)).toEqual({ text: "Hello from Warden.\n" });
    expect(shown.messages[7]!.content).toContain('CAPABILITY_DENIED: this agent holds no tool "counter"');
    expect(shown.messages[6]!.tool_calls).toEqual([expect.objectContaining({ name: "counter" })]);
    expect(shown.messages[7]!.tool_call_id).toBe((shown.messages[6]!.tool_calls![0] as { id: string }).id);
    expect(shown.messages[8]).toEqual({ role: "assistant", content: ANSWER });

    const replay = await runCli(["agent", "replay", out.session, "--state", state]);
    expect(replay.code, replay.stderr).toBe(0);
    const report = JSON.parse(replay.stdout) as { matched: boolean; steps: Array<{ matched: boolean }> };
    expect(report.matched).toBe(true);
    expect(report.steps.length).toBeGreaterThan(4);

    // No --policy: the one `agent run` recorded for the agent in this state directory.
    const resume = await runCli(["agent", "resume", out.session, "--state", state]);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout)).toEqual(out);
  });

  test("a replay whose requests differ from the journal says which step, exit 1 (REPLAY_MISMATCH)", async () => {
    const state = tempDir();
    const dir = tempDir();
    cpSync(join(REPO, "examples"), join(dir, "examples"), { recursive: true });
    const policy = join(dir, "examples/agents/policy.yaml");
    const run = await runCli([
      "agent",
      "run",
      "reader",
      "--policy",
      policy,
      "--task",
      TASK,
      "--state",
      state,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const { session } = JSON.parse(run.stdout) as { session: string };
    // The agent now holds one tool fewer, so its model is offered other tools than the journal recorded.
    writeFileSync(
      policy,
      readFileSync(policy, "utf8").replace("tools: [list-files, read-file]", "tools: [read-file]"),
    );
    const replay = await runCli(["agent", "replay", session, "--state", state]);
    expectCodedFailure(replay, "REPLAY_MISMATCH", `session ${session} did not replay as journaled`);
    expect((JSON.parse(replay.stdout) as { matched: boolean }).matched).toBe(false);
  });

  test("failures: an agent the policy does not name, a model with no turn left, a session that does not exist", async () => {
    const state = tempDir();
    const none = await runCli([
      "agent",
      "run",
      "writer",
      "--policy",
      EXAMPLE,
      "--task",
      TASK,
      "--state",
      state,
    ]);
    expectCodedFailure(none, "CAPABILITY_DENIED", 'names no agent "writer"', "it names: reader");

    const dir = tempDir();
    cpSync(join(REPO, "examples"), join(dir, "examples"), { recursive: true });
    const script = join(dir, "examples/agents/reader.script.yaml");
    // The script ends before the answer: the model has no turn to give, and the session fails.
    writeFileSync(script, readFileSync(script, "utf8").split("  - expect: counter")[0]!);
    const short = await runCli([
      "agent",
      "run",
      "reader",
      "--policy",
      join(dir, "examples/agents/policy.yaml"),
      "--task",
      TASK,
      "--state",
      state,
    ]);
    expectCodedFailure(short, "MODEL_ERROR", "no turn 4");
    const ps = JSON.parse((await runCli(["agent", "ps", "--state", state, "--json"])).stdout) as Array<{
      status: string;
    }>;
    expect(ps.map((s) => s.status)).toEqual(["failed"]);

    const missing = await runCli(["agent", "show", "s_nope", "--state", state, "--json"]);
    expectCodedFailure(missing, "NOT_FOUND", "s_nope");
    // Reading a state directory that does not exist creates nothing.
    const nowhere = join(state, "nowhere");
    expect(JSON.parse((await runCli(["agent", "ps", "--state", nowhere, "--json"])).stdout)).toEqual([]);
    expectCodedFailure(await runCli(["agent", "show", "s_nope", "--state", nowhere]), "NOT_FOUND", "s_nope");
    expect(existsSync(nowhere)).toBe(false);
  });
});

test("the npm start demo runs the reader agent: two tools used, the third refused and read, an answer", async () => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", join(REPO, "examples/demo.ts")],
    { cwd: REPO, env, timeout: 120_000 },
  );
  expect(stdout).toMatch(/agent reader \(scripted model\) +\d+ ms {2}ok {6}"hello\.txt says/);
  expect(stdout).toContain("  model asks for list-files");
  expect(stdout).toContain('    -> {"text":"Hello from Warden.\\n"}');
  expect(stdout).toContain(
    '    -> CAPABILITY_DENIED: this agent holds no tool "counter"; it holds: list-files, read-file',
  );
}, 150_000);
