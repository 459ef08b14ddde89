// Tests for the net kind: exact origins, method rights, limits, and SSRF refusal before any connection.
import dns from "node:dns";
import http from "node:http";
import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { FetchResult } from "../../runtime/capabilities/net/fetch.ts";
import { createNetKind, type LookupFn, type NetScope } from "../../runtime/capabilities/net/index.ts";
import type { Grant } from "../../runtime/capabilities/types.ts";
import { type ErrorCode, WardenError } from "../../runtime/errors.ts";
import { failure } from "../support/failure.ts";

// ---- A fence around every socket this file opens: only loopback may ever be dialled. ----
// It backs up the kind's own policy, so even a bug there cannot send a packet off this machine.

const fenceViolations: string[] = [];
const originalConnect = net.Socket.prototype.connect;

function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === "::1";
}

type Callback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

function fenced(): net.LookupFunction {
  return (_host, _options, callback) => callback(new Error("blocked by the test network fence"), "");
}

function fenceOptions(options: { host?: unknown; lookup?: unknown }): void {
  const host = options.host;
  if (typeof host !== "string") return;
  if (net.isIP(host)) {
    if (!isLoopback(host)) {
      fenceViolations.push(host);
      options.host = "fenced.invalid";
      options.lookup = fenced();
    }
    return;
  }
  const inner = (typeof options.lookup === "function" ? options.lookup : dns.lookup) as net.LookupFunction;
  const guarded: net.LookupFunction = (name, lookupOptions, callback: Callback) =>
    inner(name, lookupOptions, (err, address, family) => {
      const list = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const outside = err ? [] : list.filter((a) => !isLoopback(a));
      if (outside.length > 0) {
        fenceViolations.push(...outside);
        return callback(new Error("blocked by the test network fence"), "");
      }
      return callback(err, address, family);
    });
  options.lookup = guarded;
}

function installFence(): void {
  net.Socket.prototype.connect = function fencedConnect(this: net.Socket, ...args: unknown[]) {
    const first: unknown = Array.isArray(args[0]) ? args[0][0] : args[0];
    if (typeof first === "object" && first !== null) fenceOptions(first);
    return Reflect.apply(originalConnect, this, args) as net.Socket;
  } as typeof originalConnect;
}

// ---- Local servers: `target` is granted; `bystander` must never see a request it was not granted. ----

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: http.IncomingHttpHeaders;
}

interface LocalServer {
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

async function startServer(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "", url: req.url ?? "", body, headers: req.headers });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server has no port");
  const local: LocalServer = {
    port: address.port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return local;
}

function route(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const url = new URL(req.url ?? "/", "http://local");
  const q = (name: string) => url.searchParams.get(name);
  switch (url.pathname) {
    case "/hello":
      res.writeHead(200, { "Content-Type": "text/plain", "X-Demo": "Yes" }).end("hello");
      return;
    case "/echo":
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ method: req.method, body, authorization: req.headers.authorization ?? null }));
      return;
    case "/redirect":
      res.writeHead(Number(q("status") ?? 302), { Location: q("to") ?? "/" }).end();
      return;
    case "/loop":
      res.writeHead(302, { Location: "/loop" }).end();
      return;
    case "/big": {
      const bytes = Buffer.alloc(Number(q("n")), 0x61);
      // Without a declared length the cap has to be enforced while streaming.
      if (q("cl") === "1") res.writeHead(200, { "Content-Length": bytes.length });
      else res.writeHead(200, { "Transfer-Encoding": "chunked" });
      res.write(bytes.subarray(0, bytes.length / 2));
      res.end(bytes.subarray(bytes.length / 2));
      return;
    }
    case "/hang":
      return;
    default:
      res.writeHead(404).end("not found");
  }
}

let target: LocalServer;
let bystander: LocalServer;
let closedPort: number;
const P = () => target.port;
const B = () => bystander.port;

beforeAll(async () => {
  installFence();
  target = await startServer(route);
  bystander = await startServer((req, res) => {
    if (req.url === "/echo") route(req, res, "");
    else res.writeHead(200).end("bystander");
  });
  const closed = await startServer(() => {});
  closedPort = closed.port;
  await closed.close();
});

afterAll(async () => {
  net.Socket.prototype.connect = originalConnect;
  await Promise.all([target.close(), bystander.close()]);
});

afterEach(() => {
  target.seen.length = 0;
  bystander.seen.length = 0;
  // Emptied per test, so one breach fails the test that caused it and no other.
  expect(fenceViolations.splice(0)).toEqual([]);
});

// ---- Calling the kind the way the kernel's gate does: parse, right, check, run. ----

function fakeLookup(answers: Record<string, string[]> = {}) {
  const calls: string[] = [];
  const lookup: LookupFn = async (hostname) => {
    calls.push(hostname);
    const found = answers[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return found.map((address) => ({ address, family: net.isIP(address) || 4 }));
  };
  return { lookup, calls };
}

const env = { cwd: process.cwd() };

async function call(
  kind: ReturnType<typeof createNetKind>,
  grant: Grant<NetScope>,
  raw: Record<string, unknown>,
  signal: AbortSignal = new AbortController().signal,
): Promise<FetchResult> {
  const op = kind.ops.fetch!;
  const args = op.args.parse(raw);
  const right = typeof op.right === "function" ? op.right(args) : op.right;
  const target = { grant, resource: undefined };
  if (!grant.rights.includes(right)) {
    throw new WardenError("CAPABILITY_DENIED", `handle lacks ${right}`, { handle: "api", right });
  }
  const refused = op.check?.(target, args);
  if (refused !== undefined) {
    const reason = typeof refused === "string" ? refused : refused.reason;
    throw new WardenError("CAPABILITY_DENIED", reason, { handle: "api", right });
  }
  return (await op.run(target, args, { signal, handleName: "api" })) as FetchResult;
}

// ---- SSRF: every row must be refused before a socket reaches the address it names. ----

interface SsrfCase {
  name: string;
  spec: () => string;
  url: () => string;
  method?: string;
  body?: string;
  answers?: Record<string, string[]>;
  code: ErrorCode;
  says: string;
  /** Requests the granted target server legitimately receives (the hop that redirects). */
  targetHits?: number;
}

const REACH = "resolves to an address this handle may not reach";
const NOT_ORIGIN = "is not one of this handle's origins";
const byName = (name: string, addresses: string[]): SsrfCase => ({
  name: `evil.test resolving to ${name}`,
  spec: () => `GET:http://evil.test:${B()}`,
  url: () => `http://evil.test:${B()}/`,
  answers: { "evil.test": addresses },
  code: "CAPABILITY_DENIED",
  says: REACH,
});
const literal = (host: string): SsrfCase => ({
  name: `literal ${host} in the URL`,
  spec: () => `GET:http://evil.test:${B()}`,
  url: () => `http://${host}:${B()}/latest/meta-data/`,
  code: "CAPABILITY_DENIED",
  says: NOT_ORIGIN,
});
const redirect = (name: string, to: () => string, extra: Partial<SsrfCase> = {}): SsrfCase => ({
  name: `redirect ${name}`,
  spec: () => `GET:http://127.0.0.1:${P()}`,
  url: () => `http://127.0.0.1:${P()}/redirect?to=${encodeURIComponent(to())}`,
  code: "CAPABILITY_DENIED",
  says: "was redirected to",
  targetHits: 1,
  ...extra,
});

const ssrfCases: SsrfCase[] = [
  byName("loopback 127.0.0.1", ["127.0.0.1"]),
  byName("metadata 169.254.169.254", ["169.254.169.254"]),
  byName("10.0.0.1", ["10.0.0.1"]),
  byName("192.168.1.1", ["192.168.1.1"]),
  byName("172.16.0.1", ["172.16.0.1"]),
  byName("CGNAT 100.64.0.1", ["100.64.0.1"]),
  byName("::1", ["::1"]),
  byName("IPv4-mapped ::ffff:127.0.0.1", ["::ffff:127.0.0.1"]),
  byName("IPv4-mapped ::ffff:169.254.169.254", ["::ffff:169.254.169.254"]),
  byName("NAT64 64:ff9b::a9fe:a9fe", ["64:ff9b::a9fe:a9fe"]),
  byName("6to4 2002:7f00:1::", ["2002:7f00:1::"]),
  byName("IPv4-compatible ::127.0.0.1", ["::127.0.0.1"]),
  byName("EC2 IPv6 metadata fd00:ec2::254", ["fd00:ec2::254"]),
  byName("unspecified 0.0.0.0", ["0.0.0.0"]),
  byName("the spelling 127.1", ["127.1"]),
  byName("the spelling 2130706433", ["2130706433"]),
  byName("the spelling 0x7f000001", ["0x7f000001"]),
  byName("a scoped fe80::1%lo", ["fe80::1%lo"]),
  byName("[public, private] mixed", ["8.8.8.8", "10.0.0.1"]),
  literal("169.254.169.254"),
  literal("127.1"),
  literal("2130706433"),
  literal("0x7f000001"),
  literal("0x7f.1"),
  literal("[::ffff:127.0.0.1]"),
  literal("[::1]"),
  literal("0.0.0.0"),
  redirect("to an ungranted origin", () => `http://127.0.0.1:${B()}/`),
  redirect("to http://169.254.169.254/", () => "http://169.254.169.254/latest/meta-data/"),
  redirect("to [::ffff:127.0.0.1]", () => `http://[::ffff:127.0.0.1]:${B()}/`),
  redirect("to a granted name resolving to loopback", () => `http://evil.test:${B()}/`, {
    spec: () => `GET:http://127.0.0.1:${P()},http://evil.test:${B()}`,
    answers: { "evil.test": ["127.0.0.1"] },
    says: REACH,
  }),
  redirect("to a granted name resolving to 10.0.0.1", () => `http://evil.test:${B()}/`, {
    spec: () => `GET:http://127.0.0.1:${P()},http://evil.test:${B()}`,
    answers: { "evil.test": ["10.0.0.1"] },
    says: REACH,
  }),
  redirect("307 keeps POST, which needs the new origin granted", () => `http://127.0.0.1:${B()}/echo`, {
    spec: () => `POST:http://127.0.0.1:${P()}`,
    url: () =>
      `http://127.0.0.1:${P()}/redirect?status=307&to=${encodeURIComponent(`http://127.0.0.1:${B()}/echo`)}`,
    method: "POST",
    body: "secret",
  }),
  redirect("303 turns POST into GET, which the grant lacks", () => "/echo", {
    spec: () => `POST:http://127.0.0.1:${P()}`,
    url: () => `http://127.0.0.1:${P()}/redirect?status=303&to=%2Fecho`,
    method: "POST",
    body: "x",
    says: "may not send GET requests",
  }),
];

describe("SSRF refusal", () => {
  test.each(ssrfCases)("$name", async (c) => {
    const { lookup, calls } = fakeLookup(c.answers);
    const kind = createNetKind({ lookup });
    const grant = kind.parseSpec(c.spec(), env);
    const raw: Record<string, unknown> = { url: c.url(), method: c.method ?? "GET" };
    if (c.body !== undefined) raw.body = c.body;
    const error = await failure(call(kind, grant, raw));
    expect(error.code).toBe(c.code);
    expect(error.message).toContain(c.says);
    expect(error.denial?.handle).toBe("api");
    // Nothing the guest did not write may leak: not the resolved address, not a stack.
    for (const address of Object.values(c.answers ?? {}).flat()) expect(error.message).not.toContain(address);
    expect(error.message).not.toMatch(/\n\s+at /);
    expect(bystander.seen).toEqual([]);
    expect(target.seen.length).toBe(c.targetHits ?? 0);
    if (c.answers === undefined) expect(calls).toEqual([]);
  });
});

// ---- The ordinary paths. ----

describe("fetch", () => {
  test("a granted GET returns status, lower-case headers, the final URL and the body", async () => {
    const { lookup, calls } = fakeLookup();
    const kind = createNetKind({ lookup });
    const grant = kind.parseSpec(`GET:http://127.0.0.1:${P()}`, env);
    const result = await call(kind, grant, { url: `http://127.0.0.1:${P()}/hello?x=1#frag` });
    expect(result.status).toBe(200);
    expect(result.statusText).toBe("OK");
    expect(result.url).toBe(`http://127.0.0.1:${P()}/hello?x=1`);
    expect(result.headers["x-demo"]).toBe("Yes");
    expect(result.body).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(result.body)).toBe("hello");
    // An IP literal is judged without a lookup.
    expect(calls).toEqual([]);
  });

  test("a grant for localhost may reach loopback, resolving once per connection", async () => {
    const { lookup, calls } = fakeLookup({ localhost: ["127.0.0.1"] });
    const kind = createNetKind({ lookup });
    const grant = kind.parseSpec(`http://localhost:${P()}`, env);
    const result = await call(kind, grant, { url: `http://localhost:${P()}/hello` });
    expect(new TextDecoder().decode(result.body)).toBe("hello");
    expect(calls).toEqual(["localhost"]);
  });

  test("a method the grant lacks is denied, naming the grant that would allow it", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`GET:http://127.0.0.1:${P()}`, env);
    const op = kind.ops.fetch!;
    const args = op.args.parse({ url: `http://127.0.0.1:${P()}/echo`, method: "post", body: "x" });
    expect(op.right).toBeTypeOf("function");
    expect(typeof op.right === "function" && op.right(args)).toBe("POST");
    const error = await failure(
      op.run({ grant, resource: undefined }, args, { signal: AbortSignal.any([]), handleName: "api" }),
    );
    expect(error.code).toBe("CAPABILITY_DENIED");
    // The grant that would allow it is the handle's own, widened: the operator's hint, never the message.
    expect(error.denial).toEqual({
      handle: "api",
      right: "POST",
      grant: `net:GET,POST:http://127.0.0.1:${P()}`,
    });
    expect(error.message).toBe('handle "api" may not send POST requests');
    expect(target.seen).toEqual([]);
  });

  test("an origin outside the grant is denied by check and by run", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`GET:http://127.0.0.1:${P()}`, env);
    const op = kind.ops.fetch!;
    const args = op.args.parse({ url: `http://127.0.0.1:${B()}/x?token=abc` });
    const handle = { grant, resource: undefined };
    // The reason reaches the guest; the grant that would allow the call is for the operator only.
    expect(op.check?.(handle, args)).toEqual({
      reason: `http://127.0.0.1:${B()} is not one of this handle's origins`,
      grant: `net:GET:http://127.0.0.1:${P()},http://127.0.0.1:${B()}`,
    });
    const error = await failure(op.run(handle, args, { signal: AbortSignal.any([]), handleName: "api" }));
    expect(error.denial).toEqual({
      handle: "api",
      right: "GET",
      grant: `net:GET:http://127.0.0.1:${P()},http://127.0.0.1:${B()}`,
    });
    expect(bystander.seen).toEqual([]);
  });

  test("307 resends POST with its body; 302 after POST becomes a bodiless GET", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`GET,POST:http://127.0.0.1:${P()}`, env);
    const base = `http://127.0.0.1:${P()}/redirect?to=%2Fecho&status=`;
    const kept = await call(kind, grant, { url: `${base}307`, method: "POST", body: "payload" });
    expect(JSON.parse(new TextDecoder().decode(kept.body))).toMatchObject({
      method: "POST",
      body: "payload",
    });
    expect(kept.url).toBe(`http://127.0.0.1:${P()}/echo`);
    const changed = await call(kind, grant, { url: `${base}302`, method: "POST", body: "payload" });
    expect(JSON.parse(new TextDecoder().decode(changed.body))).toMatchObject({ method: "GET", body: "" });
  });

  test("a redirect to another granted origin drops the Authorization header", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`GET:http://127.0.0.1:${P()},http://127.0.0.1:${B()}`, env);
    const to = encodeURIComponent(`http://127.0.0.1:${B()}/echo`);
    const result = await call(kind, grant, {
      url: `http://127.0.0.1:${P()}/redirect?to=${to}`,
      headers: { Authorization: "Bearer for-target-only" },
    });
    expect(JSON.parse(new TextDecoder().decode(result.body))).toMatchObject({ authorization: null });
    expect(target.seen[0]?.headers.authorization).toBe("Bearer for-target-only");
  });

  test("more than maxRedirects hops is LIMIT_EXCEEDED", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`GET:http://127.0.0.1:${P()}`, env);
    const error = await failure(call(kind, grant, { url: `http://127.0.0.1:${P()}/loop` }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(target.seen.length).toBe(6);
  });

  test.each([
    ["streamed", ""],
    ["declared", "&cl=1"],
  ])("a %s response over maxResponseBytes is LIMIT_EXCEEDED", async (_label, suffix) => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const parent = kind.parseSpec(`GET,HEAD:http://127.0.0.1:${P()}`, env);
    const scope = await kind.narrow({ grant: parent, resource: undefined }, { maxResponseBytes: 1024 });
    const grant = { rights: parent.rights, scope };
    const error = await failure(call(kind, grant, { url: `http://127.0.0.1:${P()}/big?n=2048${suffix}` }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toBe(
      `response from http://127.0.0.1:${P()} is larger than this handle's limit of 1024 bytes`,
    );
    const fits = await call(kind, grant, { url: `http://127.0.0.1:${P()}/big?n=1024${suffix}` });
    expect(fits.body.byteLength).toBe(1024);
    const head = await call(kind, grant, {
      url: `http://127.0.0.1:${P()}/big?n=2048${suffix}`,
      method: "HEAD",
    });
    expect(head.body.byteLength).toBe(0);
  });

  test("a request body over 4 MiB is LIMIT_EXCEEDED before sending", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`POST:http://127.0.0.1:${P()}`, env);
    const body = new Uint8Array(4 * 1024 * 1024 + 1);
    const error = await failure(
      call(kind, grant, { url: `http://127.0.0.1:${P()}/echo`, method: "POST", body }),
    );
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(target.seen).toEqual([]);
  });

  test.each(["Host", "connection", "Transfer-Encoding", "content-length", "Proxy-Authorization", "upgrade"])(
    "the header %s is refused",
    async (name) => {
      const kind = createNetKind({ lookup: fakeLookup().lookup });
      const grant = kind.parseSpec(`GET:http://127.0.0.1:${P()}`, env);
      const error = await failure(
        call(kind, grant, { url: `http://127.0.0.1:${P()}/hello`, headers: { [name]: "x" } }),
      );
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toBe(`header "${name}" is set by Warden and may not be sent by a tool`);
      expect(target.seen).toEqual([]);
    },
  );

  test("malformed arguments are refused by the schema", () => {
    const args = createNetKind().ops.fetch!.args;
    expect(args.safeParse({ url: "http://a.example/", headers: { "x-a": "1\r\nHost: evil" } }).success).toBe(
      false,
    );
    expect(args.safeParse({ url: "http://user:pw@a.example/" }).success).toBe(false);
    expect(args.safeParse({ url: "file:///etc/passwd" }).success).toBe(false);
    expect(args.safeParse({ url: "http://a.example/", method: "TRACE" }).success).toBe(false);
    expect(args.safeParse({ url: "http://a.example/", body: 42 }).success).toBe(false);
  });

  test("a refused connection is NET_ERROR naming only the origin", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`GET:http://127.0.0.1:${closedPort}`, env);
    const error = await failure(call(kind, grant, { url: `http://127.0.0.1:${closedPort}/x` }));
    expect(error.code).toBe("NET_ERROR");
    expect(error.message).toBe(`request to http://127.0.0.1:${closedPort} failed: connection refused`);
  });

  test("a name that does not resolve is NET_ERROR", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`GET:http://missing.test:${B()}`, env);
    const error = await failure(call(kind, grant, { url: `http://missing.test:${B()}/` }));
    expect(error.code).toBe("NET_ERROR");
    expect(error.message).toBe(`request to http://missing.test:${B()} failed: name did not resolve`);
  });

  test("aborting ctx.signal ends the request with the signal's reason", async () => {
    const kind = createNetKind({ lookup: fakeLookup().lookup });
    const grant = kind.parseSpec(`GET:http://127.0.0.1:${P()}`, env);
    const controller = new AbortController();
    const reason = new WardenError("LIMIT_EXCEEDED", "wall time ran out");
    setTimeout(() => controller.abort(reason), 30);
    expect(await failure(call(kind, grant, { url: `http://127.0.0.1:${P()}/hang` }, controller.signal))).toBe(
      reason,
    );
    const plain = new AbortController();
    setTimeout(() => plain.abort(), 30);
    const error = await failure(call(kind, grant, { url: `http://127.0.0.1:${P()}/hang` }, plain.signal));
    expect(error.message).toBe(`request to http://127.0.0.1:${P()} failed: the call was aborted`);
  });

  test("the audit summary keeps method, origin and path, never query, headers or body", () => {
    const op = createNetKind().ops.fetch!;
    const args = op.args.parse({
      url: "https://api.example.com/v1/items?token=s3cret",
      method: "put",
      headers: { authorization: "Bearer s3cret" },
      body: "s3cret",
    });
    expect(op.summary(args)).toBe("PUT https://api.example.com/v1/items");
  });
});

// ---- Grant specs. ----

describe("spec", () => {
  const kind = createNetKind();
  const valid = "A valid spec looks like net:GET,POST:https://api.example.com,http://127.0.0.1:8080";

  test("normalises methods and origins with WHATWG URL", () => {
    const grant = kind.parseSpec(
      "post,get:HTTPS://API.Example.COM:443/,http://bücher.example,http://2130706433:8080",
      env,
    );
    expect(grant.rights).toEqual(["GET", "POST"]);
    expect(grant.scope).toEqual({
      origins: ["https://api.example.com", "http://xn--bcher-kva.example", "http://127.0.0.1:8080"],
      maxResponseBytes: 4 * 1024 * 1024,
      maxRedirects: 5,
    });
    expect(kind.formatSpec(grant)).toBe(
      "net:GET,POST:https://api.example.com,http://xn--bcher-kva.example,http://127.0.0.1:8080",
    );
    expect(kind.parseSpec("https://a.example", env).rights).toEqual(["GET"]);
    expect(kind.parseSpec("GET:http://[::1]:8080", env).scope.origins).toEqual(["http://[::1]:8080"]);
  });

  test("describes a grant in plain words", () => {
    expect(kind.describe(kind.parseSpec("GET,POST:https://a.example,http://127.0.0.1:8080", env))).toBe(
      "send GET and POST requests to https://a.example and http://127.0.0.1:8080 " +
        "(responses up to 4 MiB, following up to 5 redirects within these origins)",
    );
  });

  test.each([
    [
      "GET:https://*.example.com",
      `"https://*.example.com" uses a wildcard; grant each origin exactly, listing them separated by commas`,
    ],
    [
      "GET:https://api.example.com/v1",
      `"https://api.example.com/v1" has a path; a grant covers a whole origin, so write scheme://host[:port] only`,
    ],
    [
      "GET:ftp://files.example.com",
      `"ftp://files.example.com" has scheme "ftp"; net grants http and https origins only`,
    ],
    [
      "ftp://files.example.com",
      `"ftp://files.example.com" has scheme "ftp"; net grants http and https origins only`,
    ],
    [
      "GET:10.0.0.0/8",
      `"10.0.0.0/8" is an address range; grant each origin exactly, e.g. http://10.0.0.5:8080`,
    ],
    [
      "GET:http://10.0.0.0/8",
      `"http://10.0.0.0/8" is an address range; grant each origin exactly, e.g. http://10.0.0.5:8080`,
    ],
    ["GET:https://a.example?x=1", `"https://a.example?x=1" has a query; write scheme://host[:port] only`],
    [
      "GET:https://a.example/#top",
      `"https://a.example/#top" has a fragment; write scheme://host[:port] only`,
    ],
    [
      "GET:https://me:pw@a.example",
      `"https://me:pw@a.example" has credentials in it; pass them as a header on each request instead`,
    ],
    ["GET:api.example.com", `"api.example.com" is not an origin; write scheme://host[:port]`],
    [
      "GET:http://0.0.0.0:8080",
      `"http://0.0.0.0:8080" is not one host (unspecified address); name the host itself`,
    ],
    [
      "FETCH:https://a.example",
      `"FETCH" is not a method; the methods are GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS`,
    ],
    ["GET", "it names no origin"],
    ["", "it names no origin"],
  ])("net:%s is refused", (body, reason) => {
    let thrown: unknown;
    try {
      kind.parseSpec(body, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WardenError);
    expect((thrown as WardenError).code).toBe("USAGE");
    expect((thrown as WardenError).message).toBe(`bad net grant "net:${body}": ${reason}. ${valid}`);
  });

  test("narrowing keeps a subset and refuses origins the parent lacks", async () => {
    const parent = {
      grant: kind.parseSpec("GET:https://a.example,https://b.example", env),
      resource: undefined,
    };
    expect(await kind.narrow(parent, { origins: ["HTTPS://B.EXAMPLE/"], maxResponseBytes: 1e9 })).toEqual({
      origins: ["https://b.example"],
      maxResponseBytes: 4 * 1024 * 1024,
      maxRedirects: 5,
    });
    const error = await failure(kind.narrow(parent, { origins: ["https://c.example"] }));
    expect(error.code).toBe("CAPABILITY_DENIED");
  });
});
