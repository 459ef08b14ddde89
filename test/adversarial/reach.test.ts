// Path tricks and SSRF attempts made from inside sandboxes, as tables, against every backend: each is
// refused with the right code, nothing outside the grant is read or written, and no refused address is
// ever connected to. Only 127.0.0.1 is ever contacted; other addresses come from a fake resolver.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime, WardenError } from "../../runtime/index.ts";
import { makeReachTree, PATH_TRICKS, WRITE_TRICKS, type WriteTrick } from "../support/reach.ts";
import { BACKENDS, tempDir, writeTool } from "../support/tools.ts";

/** A write trick as a call on a JS tool's files handle. */
function jsCall(t: WriteTrick): string {
  const path = JSON.stringify(t.path);
  switch (t.op) {
    case "write":
      return `caps.files.writeText(${path}, "pwned")`;
    case "mkdir":
      return `caps.files.mkdir(${path})`;
    case "rename":
      return `caps.files.rename(${path}, ${JSON.stringify(t.to)})`;
    case "remove":
      return `caps.files.remove(${path}, { recursive: ${Boolean(t.recursive)} })`;
  }
}

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
    ({ root, outside } = makeReachTree(base));
    server = createServer((req, res) => {
      hits++;
      if (req.url === "/to-metadata")
        return res.writeHead(302, { location: "http://169.254.169.254/latest" }).end();
      if (req.url === "/to-name") return res.writeHead(302, { location: `http://evil.test:${port}/` }).end();
      if (req.url === "/to-other-port") return res.writeHead(302, { location: "http://127.0.0.1:1/" }).end();
      // Raw, so "$bytes" is the response's only header: the shape of a tagged value on the wire.
      if (req.url === "/tagged") return req.socket.end("HTTP/1.0 200 OK\r\n$bytes: AAAA\r\n\r\ntagged");
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

  test.each(WRITE_TRICKS)("$name is denied and changes nothing outside", async (trick) => {
    const outcome = await callTool(
      `try { await ${jsCall(trick)}; return "done"; } catch (e) { return e.code; }`,
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

  test("data shaped like a wire tag comes back as sent: a header named $bytes, kv keys and values", async () => {
    const outcome = await callTool(
      `const r = await caps.web.fetch("http://127.0.0.1:${port}/tagged");
       const nested = { $bytes: "AAAA", deeper: [{ $$bytes: 1, $: { $x: "" } }] };
       await caps.kv.set("$bytes", { $bytes: "AAAA" });
       await caps.kv.set("nested", nested);
       return {
         header: r.headers.get("$bytes"),
         body: await r.text(),
         got: await caps.kv.get("$bytes"),
         nested: await caps.kv.get("nested"),
         keys: await caps.kv.list(""),
       };`,
      { web: `net:GET:http://127.0.0.1:${port}`, kv: "kv" },
      { web: { type: "net" }, kv: { type: "kv" } },
    );
    expect(outcome).toEqual({
      header: "AAAA",
      body: "tagged",
      got: { $bytes: "AAAA" },
      nested: { $bytes: "AAAA", deeper: [{ $$bytes: 1, $: { $x: "" } }] },
      keys: ["$bytes", "nested"],
    });
  });

  test("kv keys that differ only in a lone surrogate are refused, never merged into one", async () => {
    const outcome = await callTool(
      `const codes = [];
       for (const use of [() => caps.kv.set("a\\ud800", 1), () => caps.kv.get("a\\ud801"),
                          () => caps.kv.list("\\udc00"), () => caps.kv.attenuate({ prefix: "p\\ud800" })]) {
         try { await use(); codes.push("done"); } catch (e) { codes.push(e.code); }
       }
       return { codes, keys: await caps.kv.list("") };`,
      { kv: "kv" },
      { kv: { type: "kv" } },
    );
    expect(outcome).toEqual({ codes: Array(4).fill("INVALID_ARGUMENT"), keys: [] });
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
