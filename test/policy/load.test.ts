// Loading policies: what compiles to what, and every problem reported at its line with words that say what is valid.
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { WardenError } from "../../runtime/errors.ts";
import { type CompiledGrant, loadPolicy, secretsUsed } from "../../runtime/policy/compile.ts";
import { POLICY_SCHEMA_FILE, policyJsonSchema } from "../../runtime/policy/json-schema.ts";
import { tempDir } from "../support/tools.ts";
import { testEnv } from "./support/env.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
let dir = "";

beforeAll(() => {
  dir = realpathSync(tempDir("warden-policy-"));
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "config.json"), "{}\n");
  writeFileSync(join(dir, "tool.js"), "export default 1;\n");
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problemsOf(file: string): string[] {
  try {
    loadPolicy(file, testEnv(), dir);
  } catch (error) {
    if (error instanceof WardenError && error.code === "POLICY_INVALID")
      return error.message.split("\n").slice(1);
    throw error;
  }
  throw new Error("the policy loaded");
}

/** The spec a compiled grant stands for, to compare it with what `--grant` would say. */
const specOf = (g: CompiledGrant) => g.kind.formatSpec(g.grant);

describe("a valid policy compiles to the grants the spec would give", () => {
  test("YAML, relative paths resolved against the policy file, limits over the defaults", () => {
    const file = write(
      "ok.yaml",
      `# comment
version: 1
tools:
  reader:
    source: ./tool.js
    limits: { timeoutMs: 2000 }
    grants:
      files: { fs: { root: ./data, rights: [list, read] } }
      api: { net: { origins: ["https://api.example.com", "http://127.0.0.1:8080"], methods: [POST, GET] } }
      store: { kv: { rights: [read], shared: team } }
      own: { kv: {} }
      time: { clock: { rights: [read], resolution: 1s } }
      out: { log: {} }
`,
    );
    const policy = loadPolicy(file, testEnv(), dir);
    const tool = policy.tools.get("reader")!;
    expect(tool.source).toBe(join(dir, "tool.js"));
    expect(tool.limits).toEqual({ timeoutMs: 2000, cpuMs: 2000, memoryMb: 64, outputKb: 1024 });
    expect(Object.fromEntries(tool.grants.map((g) => [g.handle, specOf(g)]))).toEqual({
      files: `fs:read,list:${join(dir, "data")}`,
      api: "net:GET,POST:https://api.example.com,http://127.0.0.1:8080",
      store: "kv:read:team",
      own: "kv:read,write,delete,list",
      time: "clock:read:1s",
      out: "log:write",
    });
    expect(policy.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test("JSON works the same, with $schema allowed", () => {
    const file = write(
      "ok.json",
      JSON.stringify({
        $schema: "../policies/policy.schema.json",
        version: 1,
        tools: {
          reader: { source: "tool.js", grants: { files: { fs: { root: "data", rights: ["read"] } } } },
        },
      }),
    );
    expect(specOf(loadPolicy(file, testEnv(), dir).tools.get("reader")!.grants[0]!)).toBe(
      `fs:read:${join(dir, "data")}`,
    );
  });
});

describe("one-file fs grants and net headers, built by their kinds", () => {
  test("root naming a file is a one-file grant; headers stay templates beside the spec, secrets by name", () => {
    const file = write(
      "creds.yaml",
      `version: 1
secrets:
  github: { env: GITHUB_TOKEN }
  key: { file: ./key.txt }
tools:
  reader:
    source: ./tool.js
    grants:
      config: { fs: { root: ./data/config.json, rights: [read] } }
      api: { net: { origins: ["https://api.github.com"], methods: [GET], headers: { Authorization: "Bearer \${secret:github}", X-Key: "\${secret:key}", Accept: application/json } } }
`,
    );
    const policy = loadPolicy(file, testEnv(), dir);
    expect(policy.secrets).toEqual({ github: { env: "GITHUB_TOKEN" }, key: { file: join(dir, "key.txt") } });
    const tool = policy.tools.get("reader")!;
    const [config, api] = tool.grants;
    expect(config!.grant.scope).toEqual({ root: join(dir, "data"), file: "config.json" });
    expect(specOf(config!)).toBe(`fs:read:${join(dir, "data", "config.json")}`);
    expect(specOf(api!)).toBe("net:GET:https://api.github.com");
    const headers = {
      Authorization: `Bearer \${secret:github}`,
      "X-Key": `\${secret:key}`,
      Accept: "application/json",
    };
    expect(api!.secrets).toEqual(["github", "key"]);
    expect((api!.grant.scope as { headers?: unknown }).headers).toEqual(headers);
    expect(secretsUsed(tool)).toEqual(["github", "key"]);
    // The guest's audit form of the grant names neither a header nor a secret.
    expect(api!.kind.auditForm(api!.grant)).toBe("net:GET:https://api.github.com");
  });

  test("each header and a file root's list right are problems at their own field", () => {
    write(
      "bad-creds.yaml",
      `version: 1
secrets:
  github: { env: GITHUB_TOKEN }
tools:
  reader:
    source: ./tool.js
    grants:
      config: { fs: { root: ./data/config.json, rights: [read, list] } }
      api:
        net:
          origins: ["https://api.github.com"]
          methods: [GET]
          headers:
            Authorization: "Bearer \${secret:gitlab}"
            Host: evil.example
            "Bad Name": x
            X-Id: "\${secret:9lives}"
`,
    );
    expect(problemsOf("bad-creds.yaml")).toEqual([
      `bad-creds.yaml:8:64: tools.reader.grants.config.fs.rights[1]: ${dir}/data/config.json is a file, and the "list" right lists a directory; grant the directory to list it`,
      'bad-creds.yaml:14:28: tools.reader.grants.api.net.headers.Authorization: names the secret "gitlab", which secrets: does not define (it defines github)',
      'bad-creds.yaml:15:19: tools.reader.grants.api.net.headers.Host: header "Host" is set by the transport and cannot be bound',
      'bad-creds.yaml:16:25: tools.reader.grants.api.net.headers["Bad Name"]: "Bad Name" is not a header name',
      `bad-creds.yaml:17:19: tools.reader.grants.api.net.headers.X-Id: header "X-Id" names "\${secret:9lives}", which is not a secret name`,
    ]);
  });
});

describe("every problem, at its line and field, saying what would be valid", () => {
  test("schema problems and file-system problems together", () => {
    const file = write(
      "bad.yaml",
      `version: 1
tools:
  reader:
    source: ./missing.js
    colour: blue
    grants:
      files: { fs: { root: ./nope, rights: [read, exec] } }
      ok: { fs: { root: ./nowhere, rights: [read] } }
      api: { net: { origins: ["https://*.example.com", "https://a.example/x"], methods: [GET] } }
      both: { kv: {}, log: {} }
      t: { clock: { resolution: 10ms } }
`,
    );
    expect(problemsOf("bad.yaml")).toEqual([
      `bad.yaml:4:13: tools.reader.source: no tool file at ${dir}/missing.js; source is relative to the policy file`,
      'bad.yaml:5:5: tools.reader.colour: unknown field "colour" in a tool; valid fields: source, digest, parts, backend, limits, grants',
      'bad.yaml:7:51: tools.reader.grants.files.fs.rights[1]: "exec" is not one of the fs rights: read, write, create, delete, list',
      `bad.yaml:8:25: tools.reader.grants.ok.fs.root: ${dir}/nowhere is not a directory or a file; root is relative to the policy file`,
      'bad.yaml:9:31: tools.reader.grants.api.net.origins[0]: "https://*.example.com" uses a wildcard; grant each origin exactly, listing them separated by commas; write each origin as scheme://host[:port]',
      'bad.yaml:9:56: tools.reader.grants.api.net.origins[1]: "https://a.example/x" has a path; a grant covers a whole origin, so write scheme://host[:port] only',
      "bad.yaml:10:13: tools.reader.grants.both: a grant names exactly one kind: one of fs, net, kv, clock, log, model",
      "bad.yaml:11:33: tools.reader.grants.t.clock.resolution: valid resolutions: 1ms, 100ms, 1s",
    ]);
    expect(file).toContain("bad.yaml");
  });

  test("a wrong version, a missing tools map, an unknown top-level field", () => {
    write("v.yaml", "version: 2\nrules: []\n");
    expect(problemsOf("v.yaml")).toEqual([
      'v.yaml:1:1: tools: required field "tools" is missing',
      "v.yaml:1:10: version: version must be 1",
      'v.yaml:2:1: rules: unknown field "rules" in a policy (a policy has version, tools and optionally servers, secrets and agents); valid fields: $schema, version, tools, servers, secrets, agents',
    ]);
  });

  test("YAML syntax errors and duplicate keys are reported with their lines", () => {
    write("dup.yaml", "version: 1\ntools:\n  a: { source: x }\n  a: { source: y }\n");
    expect(problemsOf("dup.yaml")).toEqual(["dup.yaml:4:3: Map keys must be unique"]);
  });

  test("a deny list, a wildcard host and an approval prompt are refused, not ignored", () => {
    write(
      "wish.yaml",
      `version: 1
tools:
  reader:
    source: ./tool.js
    deny: ["/etc"]
    grants:
      api: { net: { origins: ["https://example.com"], methods: [GET], ports: [443], approve: true } }
`,
    );
    expect(problemsOf("wish.yaml")).toEqual([
      'wish.yaml:5:5: tools.reader.deny: unknown field "deny" in a tool; valid fields: source, digest, parts, backend, limits, grants',
      'wish.yaml:7:71: tools.reader.grants.api.net.ports: unknown field "ports" in a net grant; valid fields: origins, methods, headers',
      'wish.yaml:7:85: tools.reader.grants.api.net.approve: unknown field "approve" in a net grant; valid fields: origins, methods, headers',
    ]);
  });

  test("an unknown backend", () => {
    write("b.yaml", "version: 1\ntools:\n  r: { source: ./tool.js, backend: lua }\n");
    expect(problemsOf("b.yaml")).toEqual(['b.yaml:3:36: tools.r.backend: unknown backend "lua"']);
  });
});

test("the published JSON Schema is the one the zod schema generates (npm run build:policy-schema)", () => {
  // Compared as data: the committed file is also formatted by Biome.
  expect(JSON.parse(readFileSync(join(REPO, POLICY_SCHEMA_FILE), "utf8"))).toEqual(
    JSON.parse(policyJsonSchema()),
  );
});
