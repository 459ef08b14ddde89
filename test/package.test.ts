// Warden as an installable package: `npm pack`, install the tarball into a fresh project, run a tool there
// with relative grants; an old Node is told what it needs in one line; `npm run warden` resolves paths
// against the directory it was typed in.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { tempDir } from "./support/tools.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
/** The machine's own node, older than 24 here; the message test is skipped only if there is none. */
const SYSTEM_NODE = "/usr/bin/node";
// npm and npx run the `node` first on PATH: Node 24, the one running this test.
const ENV: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
delete ENV.NODE_OPTIONS;
delete ENV.INIT_CWD;
delete ENV.npm_lifecycle_event;

function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: ENV });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const TOOL = `import { defineTool, z } from "warden/sdk";
export default defineTool({
  name: "reader",
  description: "Reads a file from its grant.",
  input: z.object({ path: z.string() }),
  output: z.object({ text: z.string() }),
  capabilities: { files: { type: "fs", rights: ["read"] } },
  async run({ path }, caps) { return { text: await caps.files.readText(path) }; },
});
`;

/** A project with a tool and a data directory, both named relative to it. */
function project(): string {
  const dir = tempDir("warden-project-");
  writeFileSync(
    join(dir, "package.json"),
    '{ "name": "proj", "version": "1.0.0", "private": true, "type": "module" }\n',
  );
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "hello.txt"), "hello from the project\n");
  writeFileSync(join(dir, "tool.js"), TOOL);
  return dir;
}

describe("the packed package", () => {
  let proj: string;

  beforeAll(async () => {
    const packed = tempDir("warden-pack-");
    const pack = await run("npm", ["pack", "--silent", "--pack-destination", packed], REPO);
    expect(pack.code, pack.stderr).toBe(0);
    const tarball = readdirSync(packed).find((name) => name.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    proj = project();
    // The tarball is local; its dependencies come from the npm cache where it has them.
    const install = await run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--silent", join(packed, tarball!)],
      proj,
    );
    expect(install.code, install.stderr).toBe(0);
  }, 240_000);

  test("installs compiled JavaScript, and npx warden runs a tool with grants relative to the project", async () => {
    const installed = join(proj, "node_modules", "warden");
    expect(existsSync(join(installed, "dist", "js", "runtime", "cli", "main.js"))).toBe(true);
    expect(existsSync(join(installed, "dist", "prelude.js"))).toBe(true);
    const result = await run(
      "npx",
      [
        "warden",
        "tool",
        "run",
        "./tool.js",
        "--grant",
        "files=fs:read:./data",
        "--input",
        '{"path":"hello.txt"}',
        "--state",
        "./.warden",
      ],
      proj,
    );
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ text: "hello from the project\n" });
    expect(result.code).toBe(0);
  }, 60_000);

  test("importing the host API prints no warning", async () => {
    const result = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'import { createRuntime } from "warden"; console.log(typeof createRuntime);',
      ],
      proj,
    );
    expect(result.stdout).toBe("function\n");
    expect(result.stderr).toBe("");
  }, 30_000);

  test.skipIf(!existsSync(SYSTEM_NODE))(
    "on Node older than 24 it says so in one line",
    async () => {
      const version = await run(SYSTEM_NODE, ["--version"], proj);
      const major = Number(version.stdout.trim().slice(1).split(".")[0]);
      // The check only means something when this machine's own node is old; here it is Node 20.
      expect(major).toBeLessThan(24);
      const result = await run(SYSTEM_NODE, [join(proj, "node_modules", ".bin", "warden"), "--help"], proj);
      expect(result.stderr).toBe(
        `Warden needs Node 24 or later; this is Node ${version.stdout.trim().slice(1)}\n`,
      );
      expect(result.stdout).toBe("");
      expect(result.code).toBe(1);
    },
    30_000,
  );
});

test("npm run warden resolves relative paths against the directory it was typed in", async () => {
  const proj = project();
  const result = await run(
    "npm",
    [
      "--prefix",
      REPO,
      "run",
      "-s",
      "warden",
      "--",
      "tool",
      "run",
      "./tool.js",
      "--grant",
      "files=fs:read:./data",
      "--input",
      '{"path":"hello.txt"}',
      "--state",
      "./.warden",
      "--isolation",
      "in-process",
    ],
    proj,
  );
  expect(result.stderr).toBe("");
  expect(JSON.parse(result.stdout)).toEqual({ text: "hello from the project\n" });
  expect(existsSync(join(proj, ".warden"))).toBe(true);
}, 60_000);
