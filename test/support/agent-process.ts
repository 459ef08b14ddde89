// A kernel process for the durability tests: a runtime with a state directory runs (or resumes) one agent session
// whose second tool sleeps, so a test can kill this process with -9 mid-call. Prints {"session","answer"} or an error.
// Usage: node agent-process.ts DIR run|resume [SESSION]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime } from "../../runtime/runtime.ts";

const [dir = "", mode = "run", session = ""] = process.argv.slice(2);

/** A tool that sleeps the first time it runs (marked by a file), and counts its runs; idempotent or not. */
const slow = (name: string, idempotent: boolean) => `import { defineTool, z } from "warden/sdk";
export default defineTool({
  name: ${JSON.stringify(name)}, description: "Waits, then answers.", idempotent: ${idempotent},
  input: z.object({ ms: z.number() }), output: z.string(),
  capabilities: { files: { type: "fs", rights: ["read", "write", "create", "list"] }, clock: { type: "clock", rights: ["sleep"] } },
  async run({ ms }, { files, clock }) {
    await files.writeText("runs", "x", { append: true });
    const first = !(await files.list()).some((e) => e.name === "started");
    if (first) {
      await files.writeText("started", "1");
      await clock.sleep(ms);
    }
    return "slept";
  },
});
`;

const note = `import { defineTool, z } from "warden/sdk";
export default defineTool({
  name: "read-note", description: "Reads a note.", input: z.object({ name: z.string() }), output: z.string(),
  async run({ name }) { return "note " + name + ": hello"; },
});
`;

const script = `worker:
  - tool_calls: [{ name: read-note, arguments: { name: a } }]
  - tool_calls: [{ name: slow, arguments: { ms: 60000 } }]
  - text: "finished"
`;

mkdirSync(join(dir, "marks"), { recursive: true });
writeFileSync(join(dir, "note.js"), note);
const idempotent = process.env.SLOW_IDEMPOTENT === "1";
writeFileSync(join(dir, "slow.js"), slow("slow", idempotent));
writeFileSync(join(dir, "worker.script.yaml"), script);

const runtime = createRuntime({ cwd: dir, stateDir: join(dir, "state"), isolation: "in-process" });
try {
  await runtime.loadTool(join(dir, "note.js"));
  await runtime.loadTool(join(dir, "slow.js"), {
    grants: { files: `fs:read,write,create,list:${join(dir, "marks")}`, clock: "clock" },
    limits: { timeoutMs: 120_000 },
  });
  runtime.agents.define({
    name: "worker",
    instructions: "Do the work.",
    model: `scripted:${join(dir, "worker.script.yaml")}`,
    tools: ["read-note", "slow"],
    ...(process.env.AGENT_BACKEND ? { backend: process.env.AGENT_BACKEND } : {}),
  });
  const out =
    mode === "resume"
      ? await runtime.agents.resume(session)
      : await runtime.agents.run("worker", { task: "Read note a, then wait." });
  process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (error) {
  const e = error as { code?: string; message?: string };
  process.stdout.write(`${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`);
  process.exitCode = 1;
} finally {
  await runtime.close();
}
