// `npm start`: runs the example tools, a hostile one among them, and shows what Warden allowed and contained.
import { createRuntime, WardenError } from "../runtime/index.ts";

const runtime = createRuntime({ cwd: new URL(".", import.meta.url).pathname, log: () => {} });
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

const width = Math.max(...rows.map((r) => r[0]!.length));
console.log(
  "Warden demo: each tool runs in its own V8 isolate, inside a supervised cell process, with only the handles it was granted.\n",
);
for (const [label, ms, outcome] of rows) console.log(`${label!.padEnd(width)}  ${ms}  ${outcome}`);
const audit = runtime.auditRecords.filter((r) => r.event === "call" && r.op !== "run");
const denied = audit.filter((r) => r.decision === "deny").length;
console.log(
  `\nAudit: ${audit.length} decisions on handle calls recorded, ${denied} of them denials. The host is still running.`,
);
await runtime.close();
