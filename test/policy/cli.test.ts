// The policy commands end to end: check, explain, test, diff, pin, and tool run --policy with its audit trail.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { REPO, runCli } from "../support/cli.ts";
import { tempDir } from "../support/tools.ts";

const warden = (args: string[], cwd = REPO) => runCli(args, { cwd });
const DOCS = "policies/examples/docs/policy.yaml";

/** A copy of an example, so a test can pin, edit and run it without touching the repository. */
function copyExample(name: string): string {
  const dir = tempDir(`warden-policy-${name}-`);
  cpSync(join(REPO, "policies/examples", name), dir, { recursive: true });
  return dir;
}

describe("check, explain, test", () => {
  test("check: a valid policy exits 0 and names its tools", async () => {
    const r = await warden(["policy", "check", DOCS]);
    expect(r).toMatchObject({ code: 0, stdout: `${DOCS}: valid; 1 tool (read-file)\n` });
  });

  test("check: an invalid policy exits 1 with POLICY_INVALID listing each problem", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "p.yaml"),
      "version: 1\ntools:\n  x: { source: ./no.js, grants: { f: { fs: { root: ., rights: [rw] } } } }\n",
    );
    const r = await warden(["policy", "check", "p.yaml"], dir);
    expect(r.code).toBe(1);
    expect(r.error?.code).toBe("POLICY_INVALID");
    expect(r.stdout.split("\n").slice(0, 3)).toEqual([
      "policy p.yaml is not valid (2 problems):",
      `p.yaml:3:16: tools.x.source: no tool file at ${dir}/no.js; source is relative to the policy file`,
      'p.yaml:3:64: tools.x.grants.f.fs.rights[0]: "rw" is not one of the fs rights: read, write, create, delete, list',
    ]);
  });

  test("explain: what the tool may do and may not, in words", async () => {
    const r = await warden(["policy", "explain", DOCS]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `Tool "read-file" (../../../examples/tools/read-file.ts; backend default; not pinned: whatever code is at that path runs)
  It may:
    - files (fs): read files under ${join(REPO, "docs")}
  It may not:
    - files: write, create, delete or list (not granted)
    - reach the network, use a key-value store, read the clock or sleep, write log lines or call a language model (no such handle)
    - reach anything outside its handles: every other directory, origin and store is denied
  Limits per call: 2000 ms wall time, 500 ms CPU, 32 MiB heap, 512 KiB output.

Every other tool: does not run under this policy. A tool gets only the rights it also declares in its code; a granted right it does not declare is dropped at load.
`,
    );
  });

  test("test: a failing case is named with its line, and the run exits 1 with POLICY_TEST_FAILED", async () => {
    const dir = tempDir();
    const cases = join(dir, "cases.yaml");
    writeFileSync(
      cases,
      `- { tool: read-file, handle: files, op: readText, args: { path: ARCHITECTURE.md }, expect: allow }
- { tool: read-file, handle: files, op: writeText, args: { path: x, text: y }, expect: allow }
`,
    );
    const r = await warden(["policy", "test", DOCS, cases]);
    expect(r.code).toBe(1);
    expect(r.error).toEqual({
      code: "POLICY_TEST_FAILED",
      message: `1 of 2 cases in ${cases} were not decided as expected`,
    });
    expect(r.stdout).toBe(
      `ok    ${cases}:1  read-file files.readText {"path":"ARCHITECTURE.md"} -> allow
FAIL  ${cases}:2  read-file files.writeText {"path":"x","text":"y"} -> expected allow, got deny: the "write" right is missing on handle "files" (fs; it has: read)
1 of 2 cases as expected
`,
    );
  });
});

describe("diff", () => {
  test("says what a change grants and takes away", async () => {
    const dir = copyExample("web");
    const next = join(dir, "next.yaml");
    writeFileSync(
      next,
      readFileSync(join(dir, "policy.yaml"), "utf8")
        .replace(
          'origins: ["https://api.open-meteo.com"]',
          'origins: ["https://api.open-meteo.com", "https://geocoding-api.open-meteo.com"]',
        )
        .replace("methods: [GET]", "methods: [GET, POST]")
        .replace("timeoutMs: 5000", "timeoutMs: 3000"),
    );
    const r = await warden(["policy", "diff", "policy.yaml", "next.yaml"], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `+ weather: api (net) gains POST
+ weather: api (net) may now reach https://geocoding-api.open-meteo.com
- weather: timeoutMs 5000 -> 3000
`,
    );
    expect((await warden(["policy", "diff", "policy.yaml", "policy.yaml"], dir)).stdout).toBe(
      "no change in what any tool may do\n",
    );
  });
});

describe("pin and run under a policy", () => {
  let dir = "";
  beforeAll(async () => {
    dir = copyExample("scratch");
  });

  test("tool run NAME --policy runs with exactly the policy's grants; every decision lands in the audit log", async () => {
    const state = join(dir, "state");
    const run = (input: unknown) =>
      warden(
        [
          "tool",
          "run",
          "notes",
          "--policy",
          "policy.yaml",
          "--state",
          state,
          "--input",
          JSON.stringify(input),
        ],
        dir,
      );
    expect((await run({ action: "save", name: "a.txt", text: "hello" })).code).toBe(0);
    expect(JSON.parse((await run({ action: "read", name: "a.txt" })).stdout)).toEqual({ text: "hello" });
    const outside = await run({ action: "read", name: "../policy.yaml" });
    expect(outside.error?.code).toBe("CAPABILITY_DENIED");
    const denied = await warden(
      ["audit", "query", "--state", state, "--tool", "notes", "--decision", "deny"],
      dir,
    );
    const records = denied.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toContainEqual(
      expect.objectContaining({ event: "call", handle: "space", op: "readText", decision: "deny" }),
    );
    const policyLoads = await warden(["audit", "query", "--state", state, "--event", "policy"], dir);
    expect(policyLoads.stdout.trim().split("\n")).toHaveLength(3);
    expect(JSON.parse(policyLoads.stdout.split("\n")[0]!)).toMatchObject({
      summary: expect.stringMatching(/^loaded policy\.yaml sha256:[0-9a-f]{64} \(1 tools\)$/),
    });
    expect(JSON.parse((await warden(["audit", "verify", "--state", state], dir)).stdout)).toMatchObject({
      ok: true,
    });
  });

  test("a tool the policy does not name does not run, and grant flags are refused under a policy", async () => {
    const r = await warden(
      ["tool", "run", "other", "--policy", "policy.yaml", "--state", join(dir, "s2")],
      dir,
    );
    expect(r.error).toEqual({
      code: "CAPABILITY_DENIED",
      message: 'policy.yaml does not name a tool "other", so it does not run under it; it names: notes',
    });
    const g = await warden(
      [
        "tool",
        "run",
        "notes",
        "--policy",
        "policy.yaml",
        "--grant",
        "space=fs:read:/",
        "--state",
        join(dir, "s2"),
      ],
      dir,
    );
    expect(g).toMatchObject({ code: 2 });
    expect(g.error).toEqual({
      code: "USAGE",
      message:
        "--grant cannot be used with --policy: grants, limits and backend come from policy.yaml; change the policy instead",
    });
  });

  test("pin writes digest and parts next to source, keeping comments; a changed tool is refused saying what changed", async () => {
    const pinned = await warden(["policy", "pin", "policy.yaml"], dir);
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toMatch(/^notes: sha256:[0-9a-f]{64}\n$/);
    const text = readFileSync(join(dir, "policy.yaml"), "utf8");
    const lines =
      / {4}source: \.\/notes\.ts\n( {4}digest: sha256:[0-9a-f]{64}\n {4}parts: \{ name: [0-9a-f]{16},.*\n)/;
    expect(text).toMatch(lines);
    // Two lines added after source; every other byte, comments included, as it was.
    const unpinned = readFileSync(join(REPO, "policies/examples/scratch/policy.yaml"), "utf8");
    expect(text.replace(lines.exec(text)![1]!, "")).toBe(unpinned);
    expect((await warden(["policy", "pin", "policy.yaml"], dir)).stdout).toMatch(/\(unchanged\)\n$/);
    const input = ["--input", JSON.stringify({ action: "list" })];
    const state = ["--state", join(dir, "s3")];
    expect(
      (await warden(["tool", "run", "notes", "--policy", "policy.yaml", ...state, ...input], dir)).code,
    ).toBe(0);

    const tool = join(dir, "notes.ts");
    const original = readFileSync(tool, "utf8");
    writeFileSync(
      tool,
      original.replace("Save, read, list and delete text notes", "Save notes and mail them home"),
    );
    const described = await warden(
      ["tool", "run", "notes", "--policy", "policy.yaml", ...state, ...input],
      dir,
    );
    expect(described.error?.code).toBe("TOOL_CHANGED");
    expect(described.error?.message).toMatch(
      /^tool "notes" is not the tool policy\.yaml pinned: its description, code changed \(pinned sha256:[0-9a-f]{12}…, now sha256:[0-9a-f]{12}…\); review the change, then run warden policy pin policy\.yaml$/,
    );
    writeFileSync(tool, `${original}// a comment\n`);
    const code = await warden(["tool", "run", "notes", "--policy", "policy.yaml", ...state, ...input], dir);
    expect(code.error?.message).toContain("its code changed");
    const refusals = await warden(
      ["audit", "query", ...state, "--event", "policy", "--decision", "deny"],
      dir,
    );
    expect(
      refusals.stdout
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { code: string }).code),
    ).toEqual(["TOOL_CHANGED", "TOOL_CHANGED"]);
    writeFileSync(tool, original);
  });

  test("a policy key that is not the tool's defineTool name is refused at run and at pin", async () => {
    const other = tempDir();
    cpSync(dir, other, { recursive: true });
    const file = join(other, "policy.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("  notes:", "  scribe:"));
    const r = await warden(
      ["tool", "run", "scribe", "--policy", "policy.yaml", "--state", join(other, "s")],
      other,
    );
    expect(r.error).toEqual({
      code: "POLICY_INVALID",
      message:
        'policy.yaml names this tool "scribe", but ./notes.ts defines itself as "notes"; a policy names each tool by its defineTool name',
    });
    const p = await warden(["policy", "pin", "policy.yaml"], other);
    expect(p.error?.message).toBe(
      'policy.yaml names a tool "scribe", but ./notes.ts defines itself as "notes"; rename the policy entry to "notes"',
    );
  });
});

describe("the policy tools tell the truth", () => {
  const READ_FILE = join(REPO, "examples/tools/read-file.ts");

  function policyIn(dir: string, body: string): string {
    writeFileSync(join(dir, "p.yaml"), `version: 1\n${body}`);
    return "p.yaml";
  }

  test("test: a case naming a tool, handle, operation or argument that does not exist is an ERROR, not a pass", async () => {
    const dir = tempDir();
    const cases = join(dir, "cases.yaml");
    writeFileSync(
      cases,
      `- { tool: wordcont, handle: files, op: readText, args: { path: a }, expect: deny }
- { tool: read-file, handle: web, op: fetch, args: { url: "https://a.example" }, expect: deny }
- { tool: read-file, handle: files, op: writetext, args: { path: a, text: b }, expect: deny }
- { tool: read-file, handle: files, op: readText, args: { pth: ../x }, expect: deny }
- { tool: read-file, handle: files, op: readText, args: { path: ../x }, expect: deny }
`,
    );
    const r = await warden(["policy", "test", DOCS, cases]);
    expect(r.error).toEqual({
      code: "POLICY_TEST_FAILED",
      message: `4 of 5 cases in ${cases} were not decided as expected (4 name a tool, handle, operation or argument that does not exist)`,
    });
    expect(r.stdout).toBe(
      `ERROR ${cases}:1  wordcont files.readText {"path":"a"}: the policy names no tool "wordcont" (it names: read-file)
ERROR ${cases}:2  read-file web.fetch {"url":"https://a.example"}: tool "read-file" gets no handle "web" under this policy (it gets: files)
ERROR ${cases}:3  read-file files.writetext {"path":"a","text":"b"}: handle "files" (fs) has no operation "writetext" (it has: readText, readBytes, writeText, writeBytes, list, stat, mkdir, remove, rename)
ERROR ${cases}:4  read-file files.readText {"pth":"../x"}: files.readText takes no argument "pth" (it takes: path)
ok    ${cases}:5  read-file files.readText {"path":"../x"} -> deny
1 of 5 cases as expected (4 name a tool, handle, operation or argument that does not exist)
`,
    );
  });

  test("check: loads each tool, refusing a key that is not its defineTool name and a grant it does not declare", async () => {
    const dir = tempDir();
    const file = policyIn(
      dir,
      `tools:
  wordcount:
    source: ${READ_FILE}
    grants:
      files: { fs: { root: ., rights: [read] } }
      api: { net: { origins: ["https://api.example.com"], methods: [GET] } }
`,
    );
    const r = await warden(["policy", "check", file], dir);
    expect(r.error?.code).toBe("POLICY_INVALID");
    expect(r.stdout).toBe(`policy p.yaml is not valid (2 problems):
p.yaml: tools.wordcount: ${READ_FILE} defines itself as "read-file"; a policy names each tool by its defineTool name, so tool run refuses this entry
p.yaml: tools.wordcount.grants.api: the tool declares no capability "api" (it declares: files), so tool run refuses this grant
`);
  });

  test("check: a grant keyed __proto__ is refused where it stands, not dropped", async () => {
    const dir = tempDir();
    const file = policyIn(
      dir,
      `tools:
  read-file:
    source: ${READ_FILE}
    grants:
      files: { fs: { root: ., rights: [read] } }
      __proto__: { log: {} }
`,
    );
    const r = await warden(["policy", "check", file], dir);
    expect(r.error?.code).toBe("POLICY_INVALID");
    expect(r.stdout).toBe(`policy p.yaml is not valid (1 problem):
p.yaml:7:7: tools.read-file.grants.__proto__: "__proto__" is a reserved name and cannot be a key; choose another name
`);
  });

  test("check, explain and diff cover servers", async () => {
    const dir = tempDir();
    const base = `tools:
  read-file:
    source: ${READ_FILE}
    grants:
      files: { fs: { root: ., rights: [read] } }
servers:
  calc:
    command: [node, ./calc.js]
`;
    writeFileSync(join(dir, "old.yaml"), `version: 1\n${base}    tools: [add]\n`);
    writeFileSync(join(dir, "new.yaml"), `version: 1\n${base}    tools: [add, exec]\n`);
    const check = await warden(["policy", "check", "new.yaml"], dir);
    expect(check.stdout).toBe("new.yaml: valid; 1 tool (read-file); 1 MCP server (calc: add, exec)\n");
    const diff = await warden(["policy", "diff", "old.yaml", "new.yaml"], dir);
    expect(diff.stdout).toBe("+ server calc: may now offer exec (once approved)\n");
    const explain = await warden(["policy", "explain", "new.yaml"], dir);
    expect(explain.stdout).toContain(
      `MCP server "calc" (started as node ./calc.js)\n  It may offer, as calc__TOOL, only: add and exec; each only while its whole definition matches the one an operator approved (warden mcp review, then warden mcp approve).`,
    );
  });

  test("tool run --policy: a denial's hint names the policy field to change, not --grant", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.txt"), "x");
    const file = policyIn(
      dir,
      `tools:
  notes:
    source: ${join(REPO, "policies/examples/scratch/notes.ts")}
    grants:
      space: { fs: { root: ., rights: [read, list] } }
`,
    );
    const r = await warden(
      [
        "tool",
        "run",
        "notes",
        "--policy",
        file,
        "--state",
        join(dir, "s"),
        "--input",
        '{"action":"save","name":"a.txt","text":"y"}',
      ],
      dir,
    );
    expect(r.error?.code).toBe("CAPABILITY_DENIED");
    expect(r.error?.message).toMatch(
      /; to allow it, add write to tools\.notes\.grants\.space\.fs\.rights in p\.yaml$/,
    );
    expect(r.error?.message).not.toContain("--grant");
  });
});
