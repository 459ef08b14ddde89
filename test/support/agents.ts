// Test helpers for agents: the small tools agent tests call, scripted-model files, and a runtime with them loaded.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime, type Runtime } from "../../runtime/runtime.ts";

/** Tools the agent suites use: two an agent holds, and one loaded in the runtime that it does not hold. */
export const AGENT_TOOLS = {
  "read-note": `import { defineTool, z } from "warden/sdk";
export default defineTool({
  name: "read-note", description: "Reads a note by name.", idempotent: true,
  input: z.object({ name: z.string() }), output: z.string(),
  async run({ name }) { return "note " + name + ": hello"; },
});
`,
  count: `import { defineTool, z } from "warden/sdk";
export default defineTool({
  name: "count", description: "Counts the letters of a text.",
  input: z.object({ text: z.string() }), output: z.object({ letters: z.number() }),
  async run({ text }) { return { letters: text.length }; },
});
`,
  "delete-all": `import { defineTool, z } from "warden/sdk";
export default defineTool({
  name: "delete-all", description: "Deletes everything.",
  input: z.object({}), output: z.string(),
  async run() { return "deleted"; },
});
`,
} as const;

/** The script of the two-tools-and-a-refusal session: the model reads a tool error and goes on. */
export const READER_SCRIPT = `reader:
  - tool_calls: [{ name: read-note, arguments: { name: a } }]
  - expect: "hello"
    tool_calls:
      - { name: count, arguments: { text: hello } }
      - { name: delete-all, arguments: {} }
  - expect: "holds no tool"
    text: "note a says hello (5 letters)"
`;

export function writeAgentFiles(
  dir: string,
  script = READER_SCRIPT,
): { script: string; tools: Record<string, string> } {
  const tools: Record<string, string> = {};
  for (const [name, source] of Object.entries(AGENT_TOOLS)) {
    tools[name] = join(dir, `${name}.js`);
    writeFileSync(tools[name], source);
  }
  const scriptFile = join(dir, "reader.script.yaml");
  writeFileSync(scriptFile, script);
  return { script: scriptFile, tools };
}

/** A runtime with the agent tools loaded on `backend` and the reader agent defined. */
export async function readerRuntime(
  dir: string,
  options: { backend?: string; stateDir?: string; script?: string; tools?: string[] } = {},
): Promise<Runtime> {
  const files = writeAgentFiles(dir, options.script);
  const runtime = createRuntime({ cwd: dir, ...(options.stateDir ? { stateDir: options.stateDir } : {}) });
  for (const path of Object.values(files.tools))
    await runtime.loadTool(path, { backend: options.backend ?? "v8:in-process" });
  runtime.agents.define({
    name: "reader",
    instructions: "Answer questions about notes.",
    model: `scripted:${files.script}`,
    tools: options.tools ?? ["read-note", "count"],
    ...(options.backend ? { backend: options.backend } : {}),
  });
  return runtime;
}
