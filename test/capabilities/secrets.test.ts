// Secrets on net grants: the kernel adds the credential to requests for the granted origin, and the value
// never reaches the guest (results, headers, URLs, errors), the audit log, a log line or the CLI's output.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime } from "../../runtime/runtime.ts";
import { createSecretStore, parseSecretFlag } from "../../runtime/secrets.ts";
import { BACKENDS, tempDir, writeTool } from "../support/tools.ts";

// Lower case and hostname-safe, so a server can also try to hand it back inside a redirect's host name.
const SECRET = `sekrit-${randomBytes(8).toString("hex")}`;
const ENV_VAR = "WARDEN_TEST_SECRET_TOKEN";
/** A header template naming the secret "api" (a template, not a value: the kernel fills it in). */
const BEARER_API = `Bearer \${secret:api}`;

interface Server {
  origin: string;
  seen: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function startServer(
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<Server> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let api: Server;
let other: Server;
let dir: string;

beforeAll(async () => {
  dir = tempDir("warden-secrets-");
  other = await startServer((_req, res) => res.writeHead(200).end("other"));
  // A hostile API: it echoes the credential in every way a guest could read back.
  api = await startServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    const url = new URL(req.url ?? "/", "http://x");
    switch (url.pathname) {
      case "/echo":
        res
          .writeHead(200, { "X-Echo": auth, "Set-Cookie": `s=${auth}` })
          .end(JSON.stringify({ got: auth !== "" }));
        return;
      case "/to-other":
        res.writeHead(302, { Location: `${other.origin}/landing` }).end();
        return;
      case "/to-url":
        res.writeHead(302, { Location: `/landing?t=${auth.replace("Bearer ", "")}` }).end();
        return;
      case "/to-host":
        res.writeHead(302, { Location: `http://${auth.replace("Bearer ", "")}.example/` }).end();
        return;
      default:
        res.writeHead(200).end("ok");
    }
  });
});

afterAll(async () => {
  await api?.close();
  await other?.close();
});

/** A tool that tries every way to read the credential back, and logs everything it saw. */
function probeTool(name?: string): string {
  return writeTool(dir, {
    name,
    capabilities: { api: { type: "net", rights: ["GET"] }, out: { type: "log" } },
    run: `
      const seen = {};
      const attempt = async (name, fn) => {
        try { seen[name] = await fn(); } catch (e) { seen[name] = { code: e.code, message: String(e.message) }; }
      };
      await attempt("echo", async () => {
        const r = await caps.api.fetch(input.origin + "/echo");
        return { status: r.status, echo: r.headers.get("x-echo"), cookie: r.headers.get("set-cookie"), body: await r.text() };
      });
      await attempt("own", () => caps.api.fetch(input.origin + "/echo", { headers: { authorization: "Bearer mine" } }));
      await attempt("other", async () => (await caps.api.fetch(input.origin + "/to-other")).text());
      await attempt("url", async () => (await caps.api.fetch(input.origin + "/to-url")).url);
      await attempt("host", () => caps.api.fetch(input.origin + "/to-host"));
      await caps.out.info(JSON.stringify(seen));
      return seen;
    `,
  });
}

describe.each(BACKENDS)("a secret on a net grant (%s)", (backend) => {
  test("reaches the granted origin and nothing the guest, the audit log or the log can read", async () => {
    const state = tempDir("warden-secrets-state-");
    const logged: string[] = [];
    const runtime = createRuntime({
      stateDir: state,
      log: (line) => void logged.push(JSON.stringify(line)),
      secrets: { api: { env: ENV_VAR } },
    });
    process.env[ENV_VAR] = SECRET;
    let closed = false;
    try {
      const tool = await runtime.loadTool(probeTool(), {
        backend,
        grants: {
          api: {
            spec: `net:GET:${api.origin},${other.origin}`,
            headers: { Authorization: BEARER_API },
          },
          out: "log",
        },
      });
      api.seen.length = 0;
      other.seen.length = 0;
      const seen = (await tool.call({ origin: api.origin })) as Record<string, unknown>;
      // The server got it, on every request to its origin.
      expect(api.seen.length).toBeGreaterThanOrEqual(4);
      for (const headers of api.seen) expect(headers.authorization).toBe(`Bearer ${SECRET}`);
      // A redirect to another origin, even a granted one, drops it.
      expect(other.seen).toHaveLength(1);
      expect(other.seen[0]!.authorization).toBeUndefined();
      expect(seen.echo).toEqual({
        status: 200,
        echo: "Bearer [secret]",
        cookie: "s=Bearer [secret]",
        body: '{"got":true}',
      });
      expect(seen.own).toEqual({
        code: "INVALID_ARGUMENT",
        message:
          'header "authorization" is set by Warden on this handle\'s requests and may not be sent by a tool',
      });
      expect(seen.other).toBe("other");
      expect(seen.url).toBe(`${api.origin}/landing?t=[secret]`);
      expect(seen.host).toMatchObject({ code: "CAPABILITY_DENIED" });
      const everything = [JSON.stringify(seen), ...logged, JSON.stringify(runtime.auditRecords)];
      for (const text of everything) expect(text).not.toContain(SECRET);
      closed = true;
      await runtime.close();
      for (const file of ["audit.jsonl", "audit.sqlite"]) {
        expect(readFileSync(join(state, file)).includes(SECRET)).toBe(false);
      }
    } finally {
      delete process.env[ENV_VAR];
      if (!closed) await runtime.close();
    }
  });
});

describe("a failure that is Warden's own", () => {
  test("reaches the operator log with the secret's value replaced, in its message, stack and causes", async () => {
    const state = tempDir("warden-secrets-internal-");
    const runtime = createRuntime({
      isolation: "in-process",
      stateDir: state,
      secrets: { api: { env: ENV_VAR } },
      // A host-side failure whose text holds the credential (the request's headers were built by then).
      lookup: async () => {
        throw new Error(`resolver failed near ${SECRET}`, { cause: new Error(`inner ${SECRET}`) });
      },
    });
    process.env[ENV_VAR] = SECRET;
    try {
      const tool = await runtime.loadTool(
        writeTool(dir, {
          capabilities: { api: { type: "net", rights: ["GET"] } },
          run: `try { await caps.api.fetch("http://named.test:8080/"); return "fetched"; } catch (e) { return { code: e.code, message: String(e.message) }; }`,
        }),
        {
          grants: {
            api: { spec: "net:GET:http://named.test:8080", headers: { Authorization: BEARER_API } },
          },
        },
      );
      const seen = await tool.call({});
      expect(seen).toMatchObject({ code: "INTERNAL" });
      expect(JSON.stringify(seen)).not.toContain(SECRET);
      const log = readFileSync(join(state, "internal-errors.jsonl"), "utf8");
      expect(log).toContain("resolver failed near [secret]");
      expect(log).toContain("inner [secret]");
      expect(log).not.toContain(SECRET);
    } finally {
      delete process.env[ENV_VAR];
      await runtime.close();
    }
  });
});

describe("the secret store", () => {
  test("reads from the environment or a file, and redacts what it handed out", async () => {
    writeFileSync(join(dir, "token"), `${SECRET}-file\n`);
    const store = createSecretStore(
      { a: { env: "TOKEN_A" }, b: { file: "./token" } },
      { cwd: dir, env: { TOKEN_A: SECRET } },
    );
    expect(store.names()).toEqual(["a", "b"]);
    expect(await store.resolve("a")).toBe(SECRET);
    expect(await store.resolve("b")).toBe(`${SECRET}-file`);
    expect(store.redact(`x ${SECRET}-file y ${SECRET}`)).toBe("x [secret] y [secret]");
    expect(store.describe("b")).toBe(`the file ${join(dir, "token")}`);
    expect(parseSecretFlag("gh=env:GITHUB_TOKEN")).toEqual({ name: "gh", source: { env: "GITHUB_TOKEN" } });
    expect(parseSecretFlag("gh=file:./t")).toEqual({ name: "gh", source: { file: "./t" } });
  });

  test.each([
    ["an undefined name", "nope", 'no secret named "nope" is defined'],
    ["an unset variable", "unset", "the environment variable UNSET_VAR, which is not set"],
    ["a value with a line break", "multi", "holds a control character"],
    ["a missing file", "missing", "cannot be read"],
  ])("%s is a USAGE error that never shows a value", async (_name, secret, words) => {
    const store = createSecretStore(
      { unset: { env: "UNSET_VAR" }, multi: { env: "MULTI" }, missing: { file: "./no-such-file" } },
      { cwd: dir, env: { MULTI: `${SECRET}\nX: y` } },
    );
    const error = await store.resolve(secret).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(error?.code).toBe("USAGE");
    expect(error?.message).toContain(words);
    expect(error?.message).not.toContain(SECRET);
  });

  test("a grant naming a secret that cannot be read fails at load, naming it but not its value", async () => {
    const runtime = createRuntime({ isolation: "in-process", secrets: { api: { env: ENV_VAR } } });
    try {
      const error = await runtime
        .loadTool(probeTool(), {
          grants: {
            api: { spec: `net:GET:${api.origin}`, headers: { Authorization: BEARER_API } },
            out: "log",
          },
        })
        .then(
          () => undefined,
          (e: unknown) => e as Error & { code: string },
        );
      expect(error?.code).toBe("USAGE");
      expect(error?.message).toContain(
        `secret "api" comes from the environment variable ${ENV_VAR}, which is not set`,
      );
      const fsGrant = await runtime
        .loadTool(probeTool(), {
          grants: { api: { spec: "log", headers: { A: "b" } }, out: "log" },
        })
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(fsGrant?.message).toContain("only net grants take headers");
    } finally {
      await runtime.close();
    }
  });
});

const REPO = fileURLToPath(new URL("../..", import.meta.url));

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, [ENV_VAR]: SECRET };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "runtime/cli/main.ts"), ...args], { env, cwd: dir });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("the CLI", () => {
  test("--secret and --header bind a credential; stdout, stderr and the audit files never hold it", async () => {
    const state = tempDir("warden-secrets-cli-");
    api.seen.length = 0;
    const result = await runCli([
      "tool",
      "run",
      probeTool(),
      "--grant",
      `api=net:GET:${api.origin},${other.origin}`,
      "--grant",
      "out=log",
      "--secret",
      `tok=env:${ENV_VAR}`,
      "--header",
      `api=Authorization: Bearer \${secret:tok}`,
      "--input",
      JSON.stringify({ origin: api.origin }),
      "--state",
      state,
    ]);
    expect(result.code).toBe(0);
    expect(api.seen[0]?.authorization).toBe(`Bearer ${SECRET}`);
    expect(result.out).toContain("[secret]");
    expect(result.out).not.toContain(SECRET);
    for (const file of ["audit.jsonl", "audit.sqlite"]) {
      expect(readFileSync(join(state, file)).includes(SECRET)).toBe(false);
    }
  }, 30_000);
});

describe("policies", () => {
  test("secrets: and net headers compile; check and explain name the secrets, never their values", async () => {
    // policy check loads the tool: the policy names it by its defineTool name and grants all it declares.
    const tool = probeTool("probe");
    const policy = join(dir, "policy.yaml");
    writeFileSync(
      policy,
      `version: 1
secrets:
  github: { env: ${ENV_VAR} }
tools:
  probe:
    source: ${tool}
    grants:
      api: { net: { origins: ["${api.origin}"], methods: [GET], headers: { Authorization: "Bearer \${secret:github}" } } }
      out: { log: {} }
`,
    );
    const check = await runCli(["policy", "check", policy]);
    expect(check.code).toBe(0);
    expect(check.out).toContain("probe uses the secret github");
    const explain = await runCli(["policy", "explain", policy]);
    expect(explain.out).toContain(
      "Warden adds the header Authorization (from secret github), which the tool never sees",
    );
    for (const text of [check.out, explain.out]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(ENV_VAR);
    }
    writeFileSync(policy, readFileSync(policy, "utf8").replace("secret:github", "secret:gitlab"));
    const bad = await runCli(["policy", "check", policy]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(
      'names the secret "gitlab", which secrets: does not define (it defines github)',
    );
  }, 30_000);
});
