// The CLI commands the issue names, on input a user or a guest can send: the last stderr line is a coded
// error, never INTERNAL, and no stack frame is printed.
import { copyFileSync, mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectCodedFailure, REPO, runCli } from "../support/cli.ts";
import { tempDir, writeTool } from "../support/tools.ts";

let dir: string;
let fetcher: string;
let echo: string;

beforeAll(() => {
  dir = tempDir("warden-errors-cli-");
  fetcher = writeTool(dir, {
    capabilities: { web: { type: "net", rights: ["GET"] } },
    run: "return (await caps.web.fetch(input.url)).status;",
  });
  echo = writeTool(dir, { run: "return 'ran';" });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tool run", () => {
  for (const url of ["/data.json", "not a url"]) {
    test(`a tool's fetch(${JSON.stringify(url)}) is INVALID_ARGUMENT`, async () => {
      const run = await runCli([
        "tool",
        "run",
        fetcher,
        "--grant",
        "web=net:GET:https://example.com",
        "--input",
        JSON.stringify({ url }),
        "--state",
        join(dir, "state"),
      ]);
      expectCodedFailure(run, "INVALID_ARGUMENT", "must be an absolute URL");
    });
  }

  test("input nested 5,000 deep is INVALID_INPUT", async () => {
    const input = `${"[".repeat(5000)}1${"]".repeat(5000)}`;
    const run = await runCli(["tool", "run", echo, "--input", input, "--state", join(dir, "state")]);
    expectCodedFailure(run, "INVALID_INPUT", "nested more than 256 levels deep");
  });
});

describe("audit verify, tail and any run on a damaged audit.sqlite", () => {
  const cases: Array<[string, (file: string) => void, string]> = [
    ["empty", (file) => writeFileSync(file, ""), "no such table"],
    [
      "garbled",
      (file) => writeFileSync(file, "this is not a database, only some text ".repeat(200)),
      "not a database",
    ],
    [
      "truncated",
      (file) => {
        // A real log, cut short mid-page.
        copyFileSync(join(dir, "state", "audit.sqlite"), file);
        truncateSync(file, 5000);
      },
      "malformed",
    ],
  ];
  for (const [name, damage, words] of cases) {
    test(`${name}: AUDIT_BROKEN naming the file`, async () => {
      const state = join(dir, `damaged-${name}`);
      mkdirSync(state, { recursive: true });
      const file = join(state, "audit.sqlite");
      if (name === "truncated") {
        // Enough records that the file spans several pages.
        for (let i = 0; i < 3; i++)
          await runCli(["tool", "run", echo, "--input", "1", "--state", join(dir, "state")]);
      }
      damage(file);
      const verify = await runCli(["audit", "verify", "--state", state]);
      expectCodedFailure(verify, "AUDIT_BROKEN", file, words);
      if (name !== "empty") {
        expectCodedFailure(await runCli(["audit", "tail", "--state", state]), "AUDIT_BROKEN", file);
        const run = await runCli(["tool", "run", echo, "--input", "1", "--state", state]);
        expectCodedFailure(run, "AUDIT_BROKEN", file);
      }
    });
  }
});

describe("policies", () => {
  test("a policy test case with a URL that does not parse is a result in the table, not a crash", async () => {
    const cases = join(dir, "bad-url-cases.yaml");
    writeFileSync(
      cases,
      '- { tool: weather, handle: api, op: fetch, args: { url: "/data.json" }, expect: deny }\n' +
        '- { tool: weather, handle: api, op: fetch, args: { url: "not a url" }, expect: deny }\n',
    );
    const run = await runCli(["policy", "test", join(REPO, "policies/examples/web/policy.yaml"), cases]);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("2 of 2 cases as expected");
  });

  test("a YAML alias bomb in a policy is POLICY_INVALID at its file and line", async () => {
    const policy = join(dir, "bomb.yaml");
    writeFileSync(
      policy,
      [
        "version: 1",
        "x:",
        '  a: &a ["x","x","x","x","x","x","x","x","x"]',
        "  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
        "  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
        "  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
        "tools: {}",
        "",
      ].join("\n"),
    );
    for (const args of [
      ["policy", "check", policy],
      ["tool", "run", "anything", "--policy", policy, "--state", join(dir, "state")],
    ]) {
      const run = await runCli(args);
      expectCodedFailure(run, "POLICY_INVALID", `${policy}:4:`, "alias bomb");
    }
  });
});
