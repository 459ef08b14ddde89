// Test helpers: write throwaway tool modules and directories, and list the backends every suite runs against.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Every sandbox engine; suites written once run against each. */
export const ENGINES = ["v8", "quickjs"] as const;
export type Backend = (typeof ENGINES)[number];

/**
 * What the adversarial tables run against: each engine in the kernel's process, and V8 in a cell (a
 * supervised child process, runtime/cells/), where a fatal V8 error or a runaway builtin cannot reach the
 * kernel. QuickJS in a cell is covered by test/cells; running its tables there too would double their time.
 */
export const BACKENDS = [...ENGINES.map((e) => `${e}:in-process` as const), "v8:cell"] as const;

/** The engine of a backend name that may carry an isolation ("v8:cell" → "v8"). */
export function engineOf(backend: string): Backend {
  const engine = backend.split(":")[0];
  const known = ENGINES.find((e) => e === engine);
  if (!known) throw new Error(`unknown engine in backend "${backend}"`);
  return known;
}

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
