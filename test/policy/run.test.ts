// Running a tool under a policy: each policy entry reaches the kernel as the grant its kind built, never as spec text.
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { WardenError } from "../../runtime/errors.ts";
import { inPolicyTerms, loadPolicyFor, loadToolUnderPolicy } from "../../runtime/policy/run.ts";
import { createRuntime, type Runtime } from "../../runtime/runtime.ts";
import { failureText } from "../support/failure.ts";
import { tempDir, writeTool } from "../support/tools.ts";

let dir = "";
let runtime: Runtime;

beforeEach(() => {
  dir = realpathSync(tempDir("warden-policy-run-"));
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "hello.txt"), "hello");
  runtime = createRuntime({ cwd: dir, isolation: "in-process" });
});

afterEach(() => runtime.close());

function readerTool(): string {
  return writeTool(dir, {
    name: "reader",
    capabilities: { files: { type: "fs", rights: ["read"] }, store: { type: "kv" }, out: { type: "log" } },
    run: `await caps.store.set("k", 1); return { text: await caps.files.readText("hello.txt"), k: await caps.store.get("k") };`,
  });
}

describe("a tool under a policy", () => {
  test("gets the grants the policy compiler built: no kind parses a spec on the way", async () => {
    const tool = readerTool();
    const file = join(dir, "policy.yaml");
    writeFileSync(
      file,
      `version: 1
tools:
  reader:
    source: ./${tool.slice(dir.length + 1)}
    grants:
      files: { fs: { root: ./data, rights: [read] } }
      store: { kv: { shared: team } }
      out: { log: {} }
`,
    );
    const policy = loadPolicyFor(runtime, file, dir);
    const parses = ["fs", "kv", "log"].map((name) => vi.spyOn(runtime.kernel.kind(name)!, "parseSpec"));
    const loaded = await loadToolUnderPolicy(runtime, policy, "reader");
    expect(await loaded.call({})).toEqual({ text: "hello", k: 1 });
    for (const parse of parses) expect(parse).not.toHaveBeenCalled();
  });
});

describe("a denial under a policy", () => {
  test("names the entry field that lists the kind's rights (net calls them methods) and its origins", () => {
    const file = join(dir, "net.yaml");
    writeFileSync(
      file,
      `version: 1
tools:
  fetcher:
    source: ./${readerTool().slice(dir.length + 1)}
    grants:
      api: { net: { origins: ["https://api.example.com"], methods: [GET] } }
`,
    );
    const policy = loadPolicyFor(runtime, file, dir);
    const denied = new WardenError(
      "CAPABILITY_DENIED",
      'the "POST" right is missing on handle "api"',
      { handle: "api", grant: "net:POST:https://api.example.com,https://other.example.com" },
      "to allow it, grant ...",
    );
    const hint = (inPolicyTerms(denied, policy, "fetcher") as WardenError).hint;
    expect(hint).toBe(
      `to allow it, add POST to tools.fetcher.grants.api.net.methods and add https://other.example.com to tools.fetcher.grants.api.net.origins in ${file}`,
    );
  });
});

describe("a grant a kind built, given through the host API", () => {
  test("is installed as it is", async () => {
    const fs = runtime.kernel.kind("fs")!;
    const grant = fs.parseSpec(`read:${join(dir, "data")}`, { cwd: dir });
    const tool = await runtime.loadTool(readerTool(), {
      grants: {
        files: { kind: "fs", grant },
        store: "kv",
        out: { kind: "log", grant: { rights: ["write"], scope: { maxBytes: 100 } } },
      },
    });
    expect(await tool.call({})).toEqual({ text: "hello", k: 1 });
  });

  test("naming a kind this runtime lacks, or rights its kind lacks, is refused", async () => {
    const grant = { rights: ["read"], scope: { root: join(dir, "data") } };
    expect(
      await failureText(runtime.loadTool(readerTool(), { grants: { files: { kind: "disk", grant } } })),
    ).toEqual({ code: "USAGE", message: 'grant "files" names no capability kind "disk"' });
    expect(
      await failureText(
        runtime.loadTool(readerTool(), {
          grants: { files: { kind: "fs", grant: { ...grant, rights: ["read", "own"] } } },
        }),
      ),
    ).toEqual({
      code: "USAGE",
      message: 'grant "files" (fs) has unknown rights own; valid rights: read, write, create, delete, list',
    });
  });
});
