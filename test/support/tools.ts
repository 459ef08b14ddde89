// Test helpers: write throwaway tool modules and directories, and list the backends every suite runs against.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Every sandbox backend; suites written once run against each. */
export const BACKENDS = ["v8", "quickjs"] as const;
export type Backend = (typeof BACKENDS)[number];

export function tempDir(prefix = "warden-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

let counter = 0;

export interface ToolSource {
  /** Body of `async run(input, caps)`. */
  run: string;
  /** Code before defineTool, at module top level. */
  top?: string;
  capabilities?: Record<string, { type: string; rights?: string[] }>;
  /** zod expression for the output schema; default z.any(). */
  output?: string;
  input?: string;
  name?: string;
}

/** Writes a tool module to a fresh file and returns its path. */
export function writeTool(dir: string, source: ToolSource): string {
  const file = join(dir, `tool-${++counter}.js`);
  writeFileSync(
    file,
    `import { defineTool, z } from "warden/sdk";
${source.top ?? ""}
export default defineTool({
  name: ${JSON.stringify(source.name ?? `t${counter}`)},
  description: "test tool",
  input: ${source.input ?? "z.any()"},
  output: ${source.output ?? "z.any()"},
  capabilities: ${JSON.stringify(source.capabilities ?? {})},
  async run(input, caps) { ${source.run} },
});
`,
  );
  return file;
}
