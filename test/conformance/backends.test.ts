// The same tool, the same answers: every JS backend gives the same definitions, outputs and errors (code and
// message) for the README's example, denials, bad input, limits and the handle API, in the host API and the CLI.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime, WardenError } from "../../runtime/index.ts";
import { BACKENDS, type ToolSource, tempDir, writeTool } from "../support/tools.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const READ_FILE = join(REPO, "examples/tools/read-file.ts");
const GRANT = `files=fs:read:${join(REPO, "examples/data")}`;

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message: string };

interface Scenario {
  name: string;
  tool: string | ToolSource;
  grants?: Record<string, string>;
  limits?: { timeoutMs?: number; cpuMs?: number; memoryMb?: number; outputKb?: number };
  input: unknown;
  expected: Outcome;
}

const CPU_MESSAGE = "the tool call exceeded its CPU-time limit of 200 ms (raise it with --cpu-ms or cpuMs)";
const WALL_MESSAGE =
  "the tool call exceeded its wall-time limit of 300 ms (raise it with --timeout-ms or timeoutMs)";

const SCENARIOS: Scenario[] = [
  {
    name: "the README's read-file example",
    tool: READ_FILE,
    grants: { files: `fs:read:${join(REPO, "examples/data")}` },
    input: { path: "hello.txt" },
    expected: { ok: true, value: { text: "Hello from Warden.\n" } },
  },
  {
    name: "a path outside the grant is denied",
    tool: READ_FILE,
    grants: { files: `fs:read:${join(REPO, "examples/data")}` },
    input: { path: "../../package.json" },
    expected: {
      ok: false,
      code: "CAPABILITY_DENIED",
      message: 'path "../../package.json" is outside the handle\'s directory',
    },
  },
  {
    name: "input that does not match the schema is INVALID_INPUT",
    tool: READ_FILE,
    grants: { files: `fs:read:${join(REPO, "examples/data")}` },
    input: { path: 1 },
    expected: {
      ok: false,
      code: "INVALID_INPUT",
      message: "✖ Invalid input: expected string, received number\n  → at path",
    },
  },
  {
    name: "a busy loop ends on its CPU-time limit",
    tool: { run: "for (;;) {}" },
    limits: { cpuMs: 200 },
    input: {},
    expected: { ok: false, code: "LIMIT_EXCEEDED", message: CPU_MESSAGE },
  },
  {
    name: "a promise that never settles ends on its wall-time limit",
    tool: { run: "await new Promise(() => {});" },
    limits: { timeoutMs: 300 },
    input: {},
    expected: { ok: false, code: "LIMIT_EXCEEDED", message: WALL_MESSAGE },
  },
  {
    name: "output over its limit",
    tool: { run: "return 'x'.repeat(4096);" },
    limits: { outputKb: 1 },
    input: {},
    expected: {
      ok: false,
      code: "LIMIT_EXCEEDED",
      message:
        "the tool's output is about 5 KiB, over its output limit of 1 KiB (raise it with --output-kb or outputKb)",
    },
  },
  {
    name: "a thrown error is TOOL_ERROR with its name and message",
    tool: { run: "throw new TypeError('boom');" },
    input: {},
    expected: { ok: false, code: "TOOL_ERROR", message: "TypeError: boom" },
  },
  {
    name: "output its schema forbids is INVALID_OUTPUT",
    tool: { run: "return { n: 'one' };", output: "z.object({ n: z.number() })" },
    input: {},
    expected: {
      ok: false,
      code: "INVALID_OUTPUT",
      message: "✖ Invalid input: expected number, received string\n  → at n",
    },
  },
  {
    name: "a forbidden import is LOAD_ERROR",
    tool: { top: 'import fs from "node:fs";', run: "return typeof fs;" },
    input: {},
    expected: {
      ok: false,
      code: "LOAD_ERROR",
      message:
        'the tool imports "node:fs"; a tool may import only warden/sdk and zod (bundle anything else into the tool file)',
    },
  },
  {
    name: "the handle API: kv, attenuation, rights, clock and TextEncoder",
    tool: {
      capabilities: { kv: { type: "kv" }, clock: { type: "clock" } },
      run: `
        await caps.kv.set("a/1", { n: 1 });
        await caps.kv.set("b/1", [true, null, "x"]);
        const narrow = await caps.kv.attenuate({ rights: ["read"], prefix: "a/" });
        let denied;
        try { await narrow.set("a/2", 2); } catch (e) { denied = [e.code, e.name, e instanceof Error]; }
        const now = await caps.clock.now();
        return {
          got: await caps.kv.get("a/1"),
          listed: await caps.kv.list(""),
          narrowGot: await narrow.get("1"),
          denied,
          rights: [...narrow.rights],
          clock: typeof now,
          bytes: [...new TextEncoder().encode("é€")],
          text: new TextDecoder().decode(new Uint8Array([104, 105])),
        };`,
    },
    grants: { kv: "kv", clock: "clock" },
    input: {},
    expected: {
      ok: true,
      value: {
        got: { n: 1 },
        listed: ["a/1", "b/1"],
        narrowGot: { n: 1 },
        denied: ["CAPABILITY_DENIED", "WardenError", true],
        rights: ["read"],
        clock: "number",
        bytes: [195, 169, 226, 130, 172],
        text: "hi",
      },
    },
  },
];

describe("every JS backend answers alike", () => {
  let runtime: Runtime;
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    runtime = createRuntime({ cwd: dir, log: () => {} });
  });
  afterAll(() => runtime.close());

  async function outcome(s: Scenario, backend: string, file: string) {
    try {
      const tool = await runtime.loadTool(file, { grants: s.grants ?? {}, limits: s.limits, backend });
      try {
        return { definition: tool.definition, outcome: { ok: true, value: await tool.call(s.input) } };
      } finally {
        await tool.dispose();
      }
    } catch (error) {
      if (!(error instanceof WardenError)) throw error;
      return { definition: undefined, outcome: { ok: false, code: error.code, message: error.message } };
    }
  }

  test.each(SCENARIOS)("$name", async (s) => {
    // One file for every backend, so the kv store (keyed by the file) is the same tool's on each.
    const file = typeof s.tool === "string" ? s.tool : writeTool(dir, s.tool);
    const results = [];
    for (const backend of BACKENDS) {
      const result = await outcome(s, backend, file);
      results.push({ backend, ...result });
      expect(result.outcome, backend).toEqual(s.expected);
    }
    for (const r of results.slice(1)) expect(r.definition, r.backend).toEqual(results[0]!.definition);
  });
});

describe("the CLI answers alike on every JS backend", () => {
  const run = promisify(execFile);
  async function cli(args: string[]) {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const state = tempDir();
    try {
      const r = await run(process.execPath, [join(REPO, "runtime/cli/main.ts"), ...args, "--state", state], {
        cwd: REPO,
        env,
      });
      return { code: 0, stdout: r.stdout, last: "" };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, last: e.stderr.trim().split("\n").at(-1) };
    }
  }

  test.each([
    [["--input", '{"path":"hello.txt"}']],
    [["--input", '{"path":"../../package.json"}']],
    [["--input", '{"path":1}']],
  ])("tool run read-file.ts %j", async (input) => {
    const answers = [];
    for (const backend of BACKENDS) {
      answers.push(await cli(["tool", "run", READ_FILE, "--grant", GRANT, ...input, "--backend", backend]));
    }
    for (const a of answers.slice(1)) expect(a, JSON.stringify(answers)).toEqual(answers[0]);
    expect(answers[0]!.code === 0 ? JSON.parse(answers[0]!.stdout) : answers[0]!.last).toBeTruthy();
  });
});
