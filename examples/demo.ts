// `npm start`: runs the example tools, a hostile one among them, and an agent, and shows what Warden allowed and contained.
import { createRuntime, WardenError } from "../runtime/index.ts";
import { defineAgentsUnderPolicy, loadPolicyFor } from "../runtime/policy/run.ts";

const here = new URL(".", import.meta.url).pathname;
const runtime = createRuntime({ cwd: here, log: () => {} });
const rows: string[][] = [];

async function attempt(label: string, run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  let outcome: string;
  try {
    outcome = `ok      ${JSON.stringify(await run())}`;
  } catch (error) {
    if (!(error instanceof WardenError)) throw error;
    outcome = `${error.code.padEnd(17)} ${error.message}${error.hint ? `; ${error.hint}` : ""}`;
  }
  rows.push([label, `${Math.round(performance.now() - started)} ms`.padStart(7), outcome]);
}

const reader = await runtime.loadTool("tools/read-file.ts", { grants: { files: "fs:read:data" } });
await attempt("read-file hello.txt", () => reader.call({ path: "hello.txt" }));

const counter = await runtime.loadTool("tools/counter.ts", { grants: { store: "kv" } });
await attempt("counter (1st call)", () => counter.call({}));
await attempt("counter (2nd call)", () => counter.call({}));

// The rogue tool asks for read and write on files and GET on the web; it is given read only, and one origin.
const rogue = await runtime.loadTool("tools/rogue.ts", {
  grants: { files: "fs:read:data", web: "net:GET:https://api.example.com" },
  limits: { timeoutMs: 1000, cpuMs: 250, memoryMb: 32 },
});
for (const trick of [
  "read-outside",
  "host-globals",
  "constructor-escape",
  "metadata",
  "write-without-right",
  "busy-loop",
  "memory-bomb",
]) {
  await attempt(`rogue: ${trick}`, () => rogue.call({ trick }));
}
await attempt("read-file after the rogue", () => reader.call({ path: "hello.txt" }));

// The reader agent (examples/agents/policy.yaml) on the scripted model: it lists and reads files with the two
// tools it holds, asks for a third it does not hold (counter), reads the refusal as a tool error, and answers.
await defineAgentsUnderPolicy(runtime, loadPolicyFor(runtime, "agents/policy.yaml", here));
let session = "";
await attempt("agent reader (scripted model)", async () => {
  const done = await runtime.agents.run("reader", { task: "What does hello.txt say?" });
  session = done.session;
  return done.answer;
});
const steps: string[] = [];
if (session !== "") {
  const { messages } = await runtime.agents.show(session);
  for (const m of messages) {
    for (const call of m.tool_calls ?? [])
      steps.push(`  model asks for ${call.name} ${JSON.stringify(call.arguments)}`);
    if (m.role === "tool") steps.push(`    -> ${m.content.replaceAll("\n", "\\n")}`);
  }
}

const width = Math.max(...rows.map((r) => r[0]!.length));
console.log(
  "Warden demo: each tool and agent runs in its own V8 isolate, inside a supervised cell process, with only the handles it was granted.\n",
);
for (const [label, ms, outcome] of rows) console.log(`${label!.padEnd(width)}  ${ms}  ${outcome}`);
if (steps.length > 0) console.log(`\nThe agent's session ${session}, as journaled:\n${steps.join("\n")}`);
const audit = runtime.auditRecords.filter((r) => r.event === "call" && r.op !== "run");
const denied = audit.filter((r) => r.decision === "deny").length;
console.log(
  `\nAudit: ${audit.length} decisions on handle calls recorded, ${denied} of them denials. The host is still running.`,
);
await runtime.close();
