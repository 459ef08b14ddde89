// The warden CLI end to end: spawns `node runtime/cli/main.ts` (what `npm run warden` runs) and checks exit
// codes, the JSON on stdout and the JSON error line on stderr. Every run passes --state, so nothing lands in .warden/.
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { type CliRun, REPO, runCli as spawnCli } from "./support/cli.ts";
import { type ToolSource, tempDir, writeTool } from "./support/tools.ts";

const READ_FILE = join(REPO, "examples/tools/read-file.ts");
const HARD_KILL_MS = 60_000;

/** Set in every child's environment; it must never come back through /proc/self/environ. */
const ENV_CANARY = `env-canary-${randomUUID()}`;

function runCli(args: string[], options: { input?: string; cwd?: string } = {}): Promise<CliRun> {
  return spawnCli(args, { ...options, env: { WARDEN_TEST_CANARY: ENV_CANARY }, killAfterMs: HARD_KILL_MS });
}

/** A failed run: the exit code, the error line's code, and words its message must contain; nothing on stdout. */
function expectError(r: CliRun, exit: number, code: string, ...words: string[]): void {
  expect(r.timedOut, "the CLI hung and was killed").toBe(false);
  expect(r.lastErrorLine?.error.code, r.stderr).toBe(code);
  for (const word of words) expect(r.lastErrorLine?.error.message).toContain(word);
  expect(r.stdout).toBe("");
  expect({ code: r.code, signal: r.signal }).toEqual({ code: exit, signal: null });
}

/** For limits that kill a running isolate: the CLI must still exit 1 cleanly, never of a signal. */
function expectKilledByLimit(r: CliRun, ...words: string[]): void {
  expectError(r, 1, "LIMIT_EXCEEDED", ...words);
}

/** A successful run: exit 0, stdout is exactly the pretty-printed JSON of the output, and no error line. */
function expectOutput(r: CliRun): unknown {
  expect({ code: r.code, signal: r.signal, timedOut: r.timedOut }, r.stderr).toEqual({
    code: 0,
    signal: null,
    timedOut: false,
  });
  expect(r.lastErrorLine).toBeUndefined();
  const value = JSON.parse(r.stdout) as unknown;
  expect(r.stdout).toBe(`${JSON.stringify(value, null, 2)}\n`);
  return value;
}

const SECRETS = {
  parent: `parent-secret-${randomUUID()}`,
  outside: `outside-secret-${randomUUID()}`,
  evil: `sibling-secret-${randomUUID()}`,
};

let base: string; // base/{root,outside,root-evil,tools}, base/secret.txt
let root: string; // the granted directory
let tools: string;
const FILES_RW = { files: { type: "fs", rights: ["read", "write"] } };

function tool(source: ToolSource): string {
  return writeTool(tools, source);
}

function state(): string {
  return tempDir("warden-cli-state-");
}

beforeAll(() => {
  base = tempDir("warden-cli-");
  root = join(base, "root");
  tools = join(base, "tools");
  for (const d of ["root", "root/sub", "outside", "root-evil", "tools"]) mkdirSync(join(base, d));
  writeFileSync(join(root, "hello.txt"), "hello from root\n");
  writeFileSync(join(base, "secret.txt"), SECRETS.parent);
  writeFileSync(join(base, "outside", "secret.txt"), SECRETS.outside);
  writeFileSync(join(base, "root-evil", "x"), SECRETS.evil);
  symlinkSync(join(base, "outside", "secret.txt"), join(root, "link.txt"));
  symlinkSync(join(base, "outside"), join(root, "linkdir"));
  writeFileSync(join(tools, "read-file.ts"), readFileSync(READ_FILE, "utf8"));
});

describe.concurrent("warden tool run: success", () => {
  test("read-file prints its output as JSON on stdout and exits 0", async () => {
    const r = await runCli([
      "tool",
      "run",
      READ_FILE,
      "--grant",
      `files=fs:read:${root}`,
      "--input",
      '{"path":"hello.txt"}',
      "--state",
      state(),
    ]);
    expect(expectOutput(r)).toEqual({ text: "hello from root\n" });
  });

  test("a relative tool path and grant directory resolve against the working directory", async () => {
    const r = await runCli(
      [
        "tool",
        "run",
        "tools/read-file.ts",
        "--grant",
        "files=fs:read:root",
        "--input",
        '{"path":"sub/../hello.txt"}',
        "--state",
        state(),
      ],
      { cwd: base },
    );
    expect(expectOutput(r)).toEqual({ text: "hello from root\n" });
  });

  test("the example in `tool run --help` works as printed", async () => {
    const help = await runCli(["tool", "run", "--help"]);
    const m = /warden tool run (\S+) --grant (\S+) --input '([^']*)'/.exec(help.stdout);
    expect(m, help.stdout).not.toBeNull();
    const [, file, grant, input] = m!;
    const r = await runCli(["tool", "run", file!, "--grant", grant!, "--input", input!, "--state", state()]);
    expect(expectOutput(r)).toEqual({ text: expect.any(String) });
  });
});

describe.concurrent("warden tool run: input", () => {
  const grant = () => ["--grant", `files=fs:read:${root}`, "--state", state()];

  test("--input - reads the input JSON from stdin", async () => {
    const r = await runCli(["tool", "run", READ_FILE, "--input", "-", ...grant()], {
      input: '{"path":"hello.txt"}\n',
    });
    expect(expectOutput(r)).toEqual({ text: "hello from root\n" });
  });

  test("invalid JSON on stdin is INVALID_INPUT", async () => {
    const r = await runCli(["tool", "run", READ_FILE, "--input", "-", ...grant()], { input: "{nope" });
    expectError(r, 1, "INVALID_INPUT", "not valid JSON", "stdin");
  });

  test("invalid JSON in --input is INVALID_INPUT", async () => {
    const r = await runCli(["tool", "run", READ_FILE, "--input", "{path:", ...grant()]);
    expectError(r, 1, "INVALID_INPUT", "not valid JSON");
  });

  test.each([
    ["a number where a string is expected", '{"path":42}', "expected string"],
    ["a missing field", "{}", "path"],
    ["not an object", '"hello.txt"', "expected object"],
  ])("input with %s is INVALID_INPUT", async (_, input, word) => {
    const r = await runCli(["tool", "run", READ_FILE, "--input", input, ...grant()]);
    expectError(r, 1, "INVALID_INPUT", word);
  });
});

describe.concurrent("warden tool run: path tricks are denied", () => {
  test.each([
    ["parent directory", "../secret.txt"],
    ["absolute path", "/etc/passwd"],
    ["dot-dot through a subdirectory", "sub/../../secret.txt"],
    ["symlink to a file outside", "link.txt"],
    ["symlink to a directory outside", "linkdir/secret.txt"],
    ["sibling directory sharing the root's prefix", "../root-evil/x"],
    ["/proc/self/environ", "/proc/self/environ"],
    ["trailing slash on an outside path", "../secret.txt/"],
    ["trailing slash on a symlinked directory", "linkdir/"],
    ["trailing slash on a symlinked file", "link.txt/"],
    ["NUL byte", "a\u0000b"],
    ["NUL byte before an escape", "hello.txt\u0000/../../secret.txt"],
  ])("%s (%j)", async (_, path) => {
    const r = await runCli([
      "tool",
      "run",
      READ_FILE,
      "--grant",
      `files=fs:read:${root}`,
      "--input",
      JSON.stringify({ path }),
      "--state",
      state(),
    ]);
    expectError(r, 1, "CAPABILITY_DENIED");
    const all = r.stdout + r.stderr;
    for (const secret of [...Object.values(SECRETS), ENV_CANARY]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/root:[^:\n]*:0:0:/);
  });
});

describe.concurrent("warden tool run: grants and usage", () => {
  test("a missing grant is CAPABILITY_DENIED and says which --grant to give", async () => {
    const r = await runCli(["tool", "run", READ_FILE, "--input", '{"path":"x"}', "--state", state()]);
    expectError(r, 1, "CAPABILITY_DENIED", "--grant files=", '"files"');
  });

  test.each([
    ["an unknown kind in a spec", ["--grant", "files=bogus:read:."], ["unknown capability kind", "bogus"]],
    ["a --grant without =", ["--grant", "files"], ["NAME=SPEC", '"files"']],
    ["a --grant with an empty name", ["--grant", "=fs:read:."], ["NAME=SPEC"]],
    ["the same grant twice", ["--grant", "files=fs:read:.", "--grant", "files=fs:read:."], ["twice"]],
    ["a grant the tool does not declare", ["--grant", "files=fs:read:.", "--grant", "extra=kv"], ["extra"]],
    ["an fs grant for a missing directory", ["--grant", "files=fs:read:./no-such-dir"], ["no-such-dir"]],
    ["an unknown flag", ["--bogus"], ["--bogus"]],
    ["two positionals", [READ_FILE], ["one tool FILE", "got 2"]],
    ["a non-numeric --timeout-ms", ["--timeout-ms", "abc"], ["--timeout-ms", "whole number", "abc"]],
    ["a negative --memory-mb", ["--memory-mb", "-5"], ["--memory-mb"]],
    ["a --memory-mb below the minimum", ["--memory-mb", "1"], ["memoryMb"]],
    ["an unknown backend", ["--backend", "nope"], ["nope"]],
  ])("%s is USAGE with exit 2", async (_, extra, words) => {
    const r = await runCli([
      "tool",
      "run",
      READ_FILE,
      ...extra,
      "--input",
      '{"path":"x"}',
      "--state",
      state(),
    ]);
    expectError(r, 2, "USAGE", ...words);
  });

  // out.txt exists, so overwriting it needs "write" alone; a new file would need "create" as well.
  const writer = () =>
    tool({ capabilities: FILES_RW, run: `await caps.files.writeText("out.txt", "new"); return "wrote";` });
  const dirWithFile = () => {
    const dir = tempDir("warden-cli-write-");
    writeFileSync(join(dir, "out.txt"), "old");
    return dir;
  };

  test("writing with only read granted is CAPABILITY_DENIED naming the grant that would allow it", async () => {
    const dir = dirWithFile();
    const r = await runCli(["tool", "run", writer(), "--grant", `files=fs:read:${dir}`, "--state", state()]);
    expectError(r, 1, "CAPABILITY_DENIED", '"write"', `--grant files=fs:read,write:${dir}`);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("old");
  });

  test("the grant the denial named allows the write", async () => {
    const dir = dirWithFile();
    const r = await runCli([
      "tool",
      "run",
      writer(),
      "--grant",
      `files=fs:read,write:${dir}`,
      "--state",
      state(),
    ]);
    expect(expectOutput(r)).toBe("wrote");
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("new");
  });

  test("creating a new file with write but not create is CAPABILITY_DENIED naming create", async () => {
    const dir = tempDir("warden-cli-write-");
    const r = await runCli([
      "tool",
      "run",
      writer(),
      "--grant",
      `files=fs:read,write:${dir}`,
      "--state",
      state(),
    ]);
    expectError(r, 1, "CAPABILITY_DENIED", '"create"', `--grant files=fs:read,write,create:${dir}`);
    expect(existsSync(join(dir, "out.txt"))).toBe(false);
  });
});

/** Longer than any healthy CLI run, even on a loaded machine; shorter than the runner's own timeout. */
const HANG_MS = 50_000;

describe.concurrent("warden tool run: limits", () => {
  // The bound catches a hang, not speed: the whole CLI run (Node, Warden, a cell) is timed, on a busy CI
  // machine. How fast a limit fires is measured in bench/, never asserted here.
  test("a busy loop under --timeout-ms 300 ends with LIMIT_EXCEEDED, without hanging", async () => {
    const r = await runCli([
      "tool",
      "run",
      tool({ run: "for (;;) {}" }),
      "--timeout-ms",
      "300",
      "--state",
      state(),
    ]);
    expectKilledByLimit(r);
    expect(r.ms).toBeLessThan(HANG_MS);
  });

  test("a busy loop under --cpu-ms 200 is LIMIT_EXCEEDED naming the CPU-time limit", async () => {
    const r = await runCli([
      "tool",
      "run",
      tool({ run: "for (;;) {}" }),
      "--cpu-ms",
      "200",
      "--state",
      state(),
    ]);
    expectKilledByLimit(r, "CPU-time limit", "200 ms", "--cpu-ms");
    expect(r.ms).toBeLessThan(HANG_MS);
  });

  test("a never-settling promise is LIMIT_EXCEEDED naming the wall-time limit", async () => {
    const file = tool({ run: "await new Promise(() => {});" });
    const r = await runCli([
      "tool",
      "run",
      file,
      "--timeout-ms",
      "300",
      "--cpu-ms",
      "10000",
      "--state",
      state(),
    ]);
    expectKilledByLimit(r, "wall-time limit", "300 ms", "--timeout-ms");
    expect(r.ms).toBeLessThan(HANG_MS);
  });

  test("a memory hog under --memory-mb 16 is LIMIT_EXCEEDED naming memory", async () => {
    const file = tool({ run: "const a = []; for (;;) a.push(new Array(1e5).fill(Math.random()));" });
    const r = await runCli([
      "tool",
      "run",
      file,
      "--memory-mb",
      "16",
      "--timeout-ms",
      "5000",
      "--state",
      state(),
    ]);
    expectKilledByLimit(r, "memory limit", "16 MiB", "--memory-mb");
  });

  test("output over --output-kb 1 is LIMIT_EXCEEDED naming the output limit", async () => {
    const r = await runCli([
      "tool",
      "run",
      tool({ run: `return "x".repeat(5000);` }),
      "--output-kb",
      "1",
      "--state",
      state(),
    ]);
    expectError(r, 1, "LIMIT_EXCEEDED", "output limit", "1 KiB", "--output-kb");
  });

  test("output just under --output-kb 1 is printed", async () => {
    const r = await runCli([
      "tool",
      "run",
      tool({ run: `return "x".repeat(500);` }),
      "--output-kb",
      "1",
      "--state",
      state(),
    ]);
    expect(expectOutput(r)).toBe("x".repeat(500));
  });

  // Exiting while isolated-vm tears a killed isolate down on its own thread used to crash the CLI (SIGSEGV).
  test("after a limit kills a running isolate the CLI exits 1, never of a signal (6 runs)", async () => {
    const file = tool({
      run: "const keep = []; for (let i = 0; i < 1e6; i++) keep.push({ i, s: 'x' + i }); for (;;) {}",
    });
    const runs = await Promise.all(
      Array.from({ length: 6 }, () =>
        runCli(["tool", "run", file, "--timeout-ms", "1500", "--memory-mb", "512", "--state", state()]),
      ),
    );
    for (const r of runs) expectError(r, 1, "LIMIT_EXCEEDED", "wall-time limit");
  });
});

describe.concurrent("warden tool run: tool and load failures", () => {
  test("a tool that throws is TOOL_ERROR with its message and no host stack or path", async () => {
    const r = await runCli([
      "tool",
      "run",
      tool({ run: `throw new Error("kaboom from tool");` }),
      "--state",
      state(),
    ]);
    expectError(r, 1, "TOOL_ERROR", "kaboom from tool");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain(REPO);
    expect(r.stderr).not.toContain(base);
    expect(r.stderr).not.toMatch(/node:internal|node_modules|\.ts:\d/);
  });

  test("a tool file that does not exist is USAGE", async () => {
    const r = await runCli(["tool", "run", join(base, "no-such-tool.js"), "--state", state()]);
    expectError(r, 2, "USAGE", "no-such-tool.js");
  });

  test("a tool file with an unsupported extension is USAGE", async () => {
    const file = join(base, "tool.txt");
    writeFileSync(file, "export default 1;");
    const r = await runCli(["tool", "run", file, "--state", state()]);
    expectError(r, 2, "USAGE", "tool.txt");
  });

  test("a module with a syntax error is LOAD_ERROR", async () => {
    const r = await runCli(["tool", "run", tool({ top: "const = ;", run: "return 1;" }), "--state", state()]);
    expectError(r, 1, "LOAD_ERROR");
    expect(r.stderr).not.toContain(base);
  });

  test("a module importing node:fs is LOAD_ERROR", async () => {
    const file = tool({ top: `import fs from "node:fs";`, run: "return typeof fs;" });
    const r = await runCli(["tool", "run", file, "--state", state()]);
    expectError(r, 1, "LOAD_ERROR", "node:fs");
  });

  test("a module without a defineTool default export is LOAD_ERROR", async () => {
    const file = join(tools, "no-default.js");
    writeFileSync(file, "export const x = 1;\n");
    const r = await runCli(["tool", "run", file, "--state", state()]);
    expectError(r, 1, "LOAD_ERROR");
  });
});

describe.concurrent("warden: help, version and commands", () => {
  test.each([[["--help"]], [["-h"]], [[]], [["tool"]], [["tool", "--help"]]])(
    "%j prints the main help and exits 0",
    async (args) => {
      const r = await runCli(args);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stdout).toContain("Usage:");
      expect(r.stdout).toContain("tool run");
      expect(r.stdout).toContain("--help");
    },
  );

  test.each([[["tool", "run", "--help"]], [["tool", "run", "-h"]], [["tool", "run", READ_FILE, "--help"]]])(
    "%j prints the tool run help and exits 0",
    async (args) => {
      const r = await runCli(args);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      for (const flag of [
        "--grant",
        "--input",
        "--timeout-ms",
        "--cpu-ms",
        "--memory-mb",
        "--output-kb",
        "--state",
      ])
        expect(r.stdout).toContain(flag);
    },
  );

  test("--version prints package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
    const r = await runCli(["--version"]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 0,
      stdout: `${pkg.version}\n`,
      stderr: "",
    });
  });

  test.each([[["frob"]], [["tool", "frob"]], [["frob", "run"]]])("%j is USAGE with exit 2", async (args) => {
    const r = await runCli(args);
    expectError(r, 2, "USAGE", "unknown command", args[0]!);
  });
});

describe("warden tool run: state", () => {
  test("kv persists across runs with the same --state and starts over with a fresh one", async () => {
    const file = tool({
      name: "counter",
      capabilities: { store: { type: "kv" } },
      run: `const n = ((await caps.store.get("n")) ?? 0) + 1; await caps.store.set("n", n); return { n };`,
    });
    const dir = state();
    const run = (s: string) => runCli(["tool", "run", file, "--grant", "store=kv", "--state", s]);
    expect(expectOutput(await run(dir))).toEqual({ n: 1 });
    expect(expectOutput(await run(dir))).toEqual({ n: 2 });
    expect(expectOutput(await run(state()))).toEqual({ n: 1 });
  });

  test("the audit log in <state>/audit.jsonl records allowed and denied calls, never file contents", async () => {
    const dir = state();
    const args = (path: string) => [
      "tool",
      "run",
      READ_FILE,
      "--grant",
      `files=fs:read:${root}`,
      "--input",
      JSON.stringify({ path }),
      "--state",
      dir,
    ];
    expectOutput(await runCli(args("hello.txt")));
    expectError(await runCli(args("../secret.txt")), 1, "CAPABILITY_DENIED");
    const text = readFileSync(join(dir, "audit.jsonl"), "utf8");
    const records = text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toContainEqual(
      expect.objectContaining({ event: "load", tool: "read-file", decision: "allow" }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({
        event: "call",
        tool: "read-file",
        handle: "files",
        op: "readText",
        decision: "allow",
        summary: expect.stringContaining("hello.txt"),
      }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({
        event: "call",
        tool: "read-file",
        handle: "files",
        op: "readText",
        decision: "deny",
        code: "CAPABILITY_DENIED",
        summary: expect.stringContaining("../secret.txt"),
      }),
    );
    expect(text).not.toContain("hello from root");
    expect(text).not.toContain(SECRETS.parent);
  });
});
