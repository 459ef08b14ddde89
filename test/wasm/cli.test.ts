// `warden tool run path/to/tool.wasm` end to end: the same flags, grants, limits, outputs and error lines as
// for a JS tool. Runs the CLI as a child process with its defaults (so the component runs in a cell).
import { beforeAll, describe, expect, test } from "vitest";
import { runCli } from "../support/cli.ts";
import { tempDir } from "../support/tools.ts";
import { ensureExamplesBuilt } from "./fixtures.ts";

const warden = (...args: string[]) => runCli([...args, "--state", tempDir("warden-wasm-cli-")]);

beforeAll(ensureExamplesBuilt, 300_000);

describe.concurrent("warden tool run FILE.wasm", () => {
  test("read-file.wasm with the JS read-file's grant prints the same output", async () => {
    const r = await warden(
      "tool",
      "run",
      "tools-wasm/build/read-file.wasm",
      "--grant",
      "files=fs:read:examples/data",
      "--input",
      '{"path":"hello.txt"}',
    );
    expect({ code: r.code, error: r.error }, r.stderr).toEqual({ code: 0, error: undefined });
    expect(r.stdout).toBe(`${JSON.stringify({ text: "Hello from Warden.\n" }, null, 2)}\n`);
  });

  test("a path outside the grant is CAPABILITY_DENIED, exit 1", async () => {
    const r = await warden(
      "tool",
      "run",
      "tools-wasm/build/read-file.wasm",
      "--grant",
      "files=fs:read:examples/data",
      "--input",
      '{"path":"../../package.json"}',
    );
    expect(r.code).toBe(1);
    expect(r.error).toEqual({
      code: "CAPABILITY_DENIED",
      message: 'path "../../package.json" is outside the handle\'s directory',
    });
    expect(r.stdout).toBe("");
  });

  test("without the grant it never runs, and the error names the --grant", async () => {
    const r = await warden(
      "tool",
      "run",
      "tools-wasm/build/read-file.wasm",
      "--input",
      '{"path":"hello.txt"}',
    );
    expect(r.code).toBe(1);
    expect(r.error?.code).toBe("CAPABILITY_DENIED");
    expect(r.error?.message).toContain("--grant files=fs:read:DIR");
  });

  test("spin.wasm ends on --cpu-ms with LIMIT_EXCEEDED, exit 1", async () => {
    const r = await warden("tool", "run", "tools-wasm/build/spin.wasm", "--cpu-ms", "300");
    expect(r.code).toBe(1);
    expect(r.error).toEqual({
      code: "LIMIT_EXCEEDED",
      message: "the tool call exceeded its CPU-time limit of 300 ms (raise it with --cpu-ms or cpuMs)",
    });
  });

  test("a component on a JS backend is a USAGE error, exit 2", async () => {
    const r = await warden("tool", "run", "tools-wasm/build/spin.wasm", "--backend", "quickjs");
    expect(r.code).toBe(2);
    expect(r.error).toEqual({
      code: "USAGE",
      message: "spin.wasm is a WebAssembly component: run it with --backend wasm",
    });
  });
});
