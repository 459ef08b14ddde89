// Path tricks and SSRF attempts made from inside sandboxes, as tables, against every backend: each is
// refused with the right code, nothing outside the grant is read or written, and no refused address is
// ever connected to. Only 127.0.0.1 is ever contacted; other addresses come from a fake resolver.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime, WardenError } from "../../runtime/index.ts";
import { BACKENDS, tempDir, writeTool } from "../support/tools.ts";

const PATH_TRICKS: Array<{ name: string; path: string }> = [
  { name: "parent directory", path: "../outside/secret.txt" },
  { name: "parent of a subdirectory", path: "sub/../../outside/secret.txt" },
  { name: "absolute path", path: "/etc/passwd" },
  { name: "/proc", path: "/proc/self/environ" },
  { name: "sibling with the same prefix", path: "../root-evil/secret.txt" },
  { name: "absolute symlink", path: "abs-link" },
  { name: "relative symlink", path: "rel-link" },
  { name: "chained symlinks", path: "chain-link" },
  { name: "symlink to a directory", path: "dir-link/secret.txt" },
  { name: "symlink inside pointing inside", path: "inner-link" },
  { name: "trailing slash on a symlink", path: "dir-link/" },
  { name: "NUL byte", path: "sub/\u0000../../outside/secret.txt" },
];

const WRITE_TRICKS: Array<{ name: string; op: string; args: string }> = [
  { name: "write through an absolute symlink", op: "writeText", args: `"abs-link", "pwned"` },
  { name: "write into a symlinked directory", op: "writeText", args: `"dir-link/new.txt", "pwned"` },
  { name: "write above the root", op: "writeText", args: `"../outside/new.txt", "pwned"` },
  { name: "mkdir above the root", op: "mkdir", args: `"../outside/made"` },
  { name: "rename out of the root", op: "rename", args: `"inside.txt", "../outside/moved.txt"` },
  { name: "rename the outside in", op: "rename", args: `"../outside/secret.txt", "stolen.txt"` },
  { name: "remove through a symlinked directory", op: "remove", args: `"dir-link/secret.txt"` },
  { name: "remove the root itself", op: "remove", args: `".", { recursive: true }` },
];

describe.each(BACKENDS)("reach on %s", (backend) => {
  let base: string;
  let root: string;
  let outside: string;
  let runtime: Runtime;
  let server: Server;
  let port = 0;
  let hits = 0;
  const resolved: string[] = [];
  // Names a guest may ask for; none but "loopback.test" resolves to an address we would accept connecting to.
  const DNS: Record<string, string[]> = {
    "evil.test": ["127.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "intranet.test": ["10.0.0.7"],
    "mixed.test": ["93.184.216.34", "192.168.1.1"],
    "v6.test": ["::ffff:127.0.0.1"],
  };

  beforeAll(async () => {
    base = tempDir();
    root = join(base, "root");
    outside = join(base, "outside");
    for (const d of [root, outside, join(base, "root-evil"), join(root, "sub"), join(root, "inner")])
      mkdirSync(d);
    writeFileSync(join(outside, "secret.txt"), "OUTSIDE");
    writeFileSync(join(base, "root-evil", "secret.txt"), "EVIL");
    writeFileSync(join(root, "inside.txt"), "inside");
    writeFileSync(join(root, "inner", "file.txt"), "inner");
    symlinkSync(join(outside, "secret.txt"), join(root, "abs-link"));
    symlinkSync("../outside/secret.txt", join(root, "rel-link"));
    symlinkSync("rel-link", join(root, "chain-link"));
    symlinkSync(outside, join(root, "dir-link"));
    symlinkSync("inner/file.txt", join(root, "inner-link"));
    server = createServer((req, res) => {
      hits++;
      if (req.url === "/to-metadata")
        return res.writeHead(302, { location: "http://169.254.169.254/latest" }).end();
      if (req.url === "/to-name") return res.writeHead(302, { location: `http://evil.test:${port}/` }).end();
      if (req.url === "/to-other-port") return res.writeHead(302, { location: "http://127.0.0.1:1/" }).end();
      res.end("hello");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    runtime = createRuntime({
      cwd: base,
      lookup: async (host) => {
        resolved.push(host);
        const answers = DNS[host];
        if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
        return answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
      },
    });
  });
  afterAll(async () => {
    await runtime.close();
    server.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function callTool(run: string, grants: Record<string, string>, caps: Record<string, unknown>) {
    const tool = await runtime.loadTool(writeTool(base, { run, capabilities: caps as never }), {
      grants,
      backend,
    });
    try {
      return await tool.call({});
    } finally {
      await tool.dispose();
    }
  }

  const FILES = { files: { type: "fs" } };

  test.each(PATH_TRICKS)("read: $name is denied", async ({ path }) => {
    const outcome = await callTool(
      `try { return await caps.files.readText(${JSON.stringify(path)}); } catch (e) { return e.code; }`,
      { files: `fs:read,list:${root}` },
      FILES,
    );
    expect(outcome).toBe("CAPABILITY_DENIED");
  });

  test.each(WRITE_TRICKS)("$name is denied and changes nothing outside", async ({ op, args }) => {
    const outcome = await callTool(
      `try { await caps.files.${op}(${args}); return "done"; } catch (e) { return e.code; }`,
      { files: `fs:read,write,create,delete,list:${root}` },
      FILES,
    );
    expect(outcome).toBe("CAPABILITY_DENIED");
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("OUTSIDE");
    expect(() => readFileSync(join(outside, "new.txt"))).toThrow();
    expect(() => readFileSync(join(outside, "moved.txt"))).toThrow();
    expect(readFileSync(join(root, "inside.txt"), "utf8")).toBe("inside");
  });

  test("a directory swapped for a symlink while the tool reads never yields the outside file", async () => {
    const race = join(root, "race");
    mkdirSync(race);
    writeFileSync(join(race, "secret.txt"), "harmless");
    let swapping = true;
    const swapper = (async () => {
      while (swapping) {
        renameSync(race, `${race}.real`);
        symlinkSync(outside, race);
        await new Promise((r) => setImmediate(r));
        rmSync(race);
        renameSync(`${race}.real`, race);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const seen = (await callTool(
      `const seen = new Set();
       for (let i = 0; i < 400; i++) {
         try { seen.add(await caps.files.readText("race/secret.txt")); } catch (e) { seen.add(e.code); }
       }
       return [...seen];`,
      { files: `fs:read:${root}` },
      FILES,
    )) as string[];
    swapping = false;
    await swapper;
    expect(seen).not.toContain("OUTSIDE");
    expect(seen).toContain("harmless");
  });

  const SSRF: Array<{ name: string; grant: () => string; url: () => string; code: string }> = [
    {
      name: "a name resolving to loopback",
      grant: () => `net:GET:http://evil.test:${port}`,
      url: () => `http://evil.test:${port}/`,
      code: "CAPABILITY_DENIED",
    },
    {
      name: "a name resolving to the metadata address",
      grant: () => "net:GET:http://metadata.test",
      url: () => "http://metadata.test/latest",
      code: "CAPABILITY_DENIED",
    },
    {
      name: "a name resolving to a private address",
      grant: () => "net:GET:http://intranet.test",
      url: () => "http://intranet.test/",
      code: "CAPABILITY_DENIED",
    },
    {
      name: "a name resolving to public and private addresses",
      grant: () => "net:GET:http://mixed.test",
      url: () => "http://mixed.test/",
      code: "CAPABILITY_DENIED",
    },
    {
      name: "a name resolving to IPv4-mapped loopback",
      grant: () => `net:GET:http://v6.test:${port}`,
      url: () => `http://v6.test:${port}/`,
      code: "CAPABILITY_DENIED",
    },
    {
      name: "an origin that was not granted",
      grant: () => "net:GET:https://api.example.com",
      url: () => "http://169.254.169.254/",
      code: "CAPABILITY_DENIED",
    },
    {
      name: "a method that was not granted",
      grant: () => `net:GET:http://127.0.0.1:${port}`,
      url: () => `http://127.0.0.1:${port}/#POST`,
      code: "CAPABILITY_DENIED",
    },
    {
      name: "a redirect to the metadata address",
      grant: () => `net:GET:http://127.0.0.1:${port}`,
      url: () => `http://127.0.0.1:${port}/to-metadata`,
      code: "CAPABILITY_DENIED",
    },
    {
      name: "a redirect to a name resolving to loopback",
      grant: () => `net:GET:http://127.0.0.1:${port}`,
      url: () => `http://127.0.0.1:${port}/to-name`,
      code: "CAPABILITY_DENIED",
    },
    {
      name: "a redirect to another local port",
      grant: () => `net:GET:http://127.0.0.1:${port}`,
      url: () => `http://127.0.0.1:${port}/to-other-port`,
      code: "CAPABILITY_DENIED",
    },
  ];

  test.each(SSRF)("net: $name is refused before connecting", async (c) => {
    const url = c.url();
    const method = url.endsWith("#POST") ? "POST" : "GET";
    const before = hits;
    const outcome = await callTool(
      `try { const r = await caps.web.fetch(${JSON.stringify(url.replace("#POST", ""))}, { method: ${JSON.stringify(method)} }); return r.status; }
       catch (e) { return e.code; }`,
      { web: c.grant() },
      { web: { type: "net" } },
    );
    expect(outcome).toBe(c.code);
    // A redirect case reaches the granted local server once; nothing else is ever contacted.
    expect(hits - before).toBe(url.includes("/to-") ? 1 : 0);
  });

  test("net: a granted loopback origin works, and a refused name never gets past the resolver", async () => {
    const outcome = await callTool(
      `const r = await caps.web.fetch("http://127.0.0.1:${port}/"); return [r.status, await r.text()];`,
      { web: `net:GET:http://127.0.0.1:${port}` },
      { web: { type: "net" } },
    );
    expect(outcome).toEqual([200, "hello"]);
    expect(resolved.every((name) => name in DNS)).toBe(true);
  });

  test("errors from refused reaches are WardenErrors with no host path", async () => {
    const tool = await runtime.loadTool(
      writeTool(base, {
        run: `return await caps.files.readText("../outside/secret.txt");`,
        capabilities: FILES as never,
      }),
      { grants: { files: `fs:read:${root}` }, backend },
    );
    const error = await tool.call({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WardenError);
    expect((error as WardenError).code).toBe("CAPABILITY_DENIED");
    await tool.dispose();
  });
});
