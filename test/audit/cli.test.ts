// The audit commands end to end: verify catching an edit made to the sqlite file, tail, query, and redaction on disk.
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type CliRun, REPO, runCli } from "../support/cli.ts";
import { tempDir, writeTool } from "../support/tools.ts";

const warden = (args: string[]) => runCli(args);
const READ_FILE = join(REPO, "examples/tools/read-file.ts");
const SECRET = "s3cret-token-value";

const lines = (r: CliRun) =>
  r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let state = "";
let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end("{}"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  port = address.port;
  state = tempDir("warden-audit-cli-");
  const read = (path: string) =>
    warden([
      "tool",
      "run",
      READ_FILE,
      "--grant",
      "files=fs:read:examples/data",
      "--input",
      JSON.stringify({ path }),
      "--state",
      state,
    ]);
  expect((await read("hello.txt")).code).toBe(0);
  expect((await read("../../package.json")).error?.code).toBe("CAPABILITY_DENIED");
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test("tail -n prints the newest records as JSON lines, oldest first", async () => {
  const records = lines(await warden(["audit", "tail", "-n", "2", "--state", state]));
  expect(records).toHaveLength(2);
  expect(records[1]).toMatchObject({ event: "call", op: "run", decision: "deny", tool: "read-file" });
  expect(records[1]!.id).toBe((records[0]!.id as number) + 1);
});

test("query filters by tool, decision and time", async () => {
  const denied = lines(
    await warden(["audit", "query", "--decision", "deny", "--tool", "read-file", "--state", state]),
  );
  expect(denied.map((r) => r.op)).toEqual(["readText", "run"]);
  expect(denied[0]).toMatchObject({ handle: "files", summary: "readText ../../package.json" });
  expect(await warden(["audit", "query", "--tool", "nobody", "--state", state])).toMatchObject({
    code: 0,
    stdout: "",
  });
  expect((await warden(["audit", "query", "--since", "1h", "--state", state])).stdout).not.toBe("");
  expect((await warden(["audit", "query", "--since", "yesterday", "--state", state])).error).toEqual({
    code: "USAGE",
    message:
      '--since takes an ISO date or time (2026-11-21, 2026-11-21T10:00:00Z) or an age (30s, 15m, 2h, 7d), got "yesterday"',
  });
});

test("verify passes, then names the record an edit to audit.sqlite changed", async () => {
  const dir = tempDir("warden-audit-tamper-");
  const run = () =>
    warden([
      "tool",
      "run",
      READ_FILE,
      "--grant",
      "files=fs:read:examples/data",
      "--input",
      '{"path":"hello.txt"}',
      "--state",
      dir,
    ]);
  expect((await run()).code).toBe(0);
  expect((await run()).code).toBe(0);
  const ok = await warden(["audit", "verify", "--state", dir]);
  expect(ok.code).toBe(0);
  const result = JSON.parse(ok.stdout) as { ok: boolean; records: number; head: string };
  expect(result).toMatchObject({ ok: true, head: expect.stringMatching(/^[0-9a-f]{64}$/) });
  const db = new DatabaseSync(join(dir, "audit.sqlite"));
  // The first run's read of hello.txt, rewritten to say it read another file.
  const { id } = db
    .prepare("SELECT min(id) AS id FROM audit WHERE record LIKE '%readText hello.txt%'")
    .get() as {
    id: number;
  };
  db.prepare("UPDATE audit SET record = replace(record, 'hello.txt', 'other.txt') WHERE id = ?").run(id);
  db.close();
  const broken = await warden(["audit", "verify", "--state", dir]);
  expect(broken.code).toBe(1);
  expect(broken.error).toEqual({
    code: "AUDIT_BROKEN",
    message: `record ${id} was edited: its contents no longer match its hash (${id - 1} records before it verify)`,
  });
});

test("verify without a log says which --state to pass", async () => {
  const empty = tempDir();
  expect((await warden(["audit", "verify", "--state", empty])).error).toEqual({
    code: "USAGE",
    message: `no audit log at ${empty}/audit.sqlite; run a tool with --state ${empty} first, or pass the --state DIR it used`,
  });
});

test("a URL's query string and credentials never reach the audit files", async () => {
  const dir = tempDir("warden-audit-redact-");
  const tool = writeTool(dir, {
    capabilities: { api: { type: "net", rights: ["GET"] } },
    run: `
      await caps.api.fetch("http://127.0.0.1:${port}/ok?token=${SECRET}");
      try { await caps.api.fetch("http://127.0.0.2:${port}/x?token=${SECRET}"); } catch {}
      try { await caps.api.fetch("http://u:${SECRET}@127.0.0.1:${port}/"); } catch {}
      return 1;`,
  });
  const r = await warden([
    "tool",
    "run",
    tool,
    "--grant",
    `api=net:GET:http://127.0.0.1:${port}`,
    "--state",
    dir,
  ]);
  expect(r.code).toBe(0);
  const fetches = lines(await warden(["audit", "query", "--event", "call", "--state", dir])).filter(
    (x) => x.op === "fetch",
  );
  // Credentials in a URL are refused by the argument schema (INVALID_ARGUMENT), before any origin check.
  expect(fetches.map((x) => x.decision)).toEqual(["allow", "deny", "error"]);
  expect(fetches[0]!.summary).toBe(`GET http://127.0.0.1:${port}/ok`);
  for (const file of ["audit.sqlite", "audit.jsonl"]) {
    expect(readFileSync(join(dir, file)).includes(SECRET)).toBe(false);
  }
});
