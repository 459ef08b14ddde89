// Warden's tools served over MCP, driven by the official SDK client in memory and over Streamable HTTP.
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime, type Tool } from "../../runtime/index.ts";
import { serveHttp } from "../../runtime/mcp/http.ts";
import { createMcpServer } from "../../runtime/mcp/serve.ts";
import { tempDir, writeTool } from "../support/tools.ts";

let runtime: Runtime;
let base: string;
let reader: Tool;
let counter: Tool;

beforeAll(async () => {
  base = tempDir();
  mkdirSync(join(base, "data"));
  writeFileSync(join(base, "data", "hello.txt"), "hello over MCP");
  runtime = createRuntime({ cwd: base, isolation: "in-process" } as Parameters<typeof createRuntime>[0]);
  reader = await runtime.loadTool(join(process.cwd(), "examples/tools/read-file.ts"), {
    grants: { files: `fs:read:${join(base, "data")}` },
  });
  counter = await runtime.loadTool(
    writeTool(base, {
      name: "count",
      input: "z.object({ by: z.number().int().default(1) })",
      output: "z.object({ total: z.number() })",
      run: "globalThis.total = (globalThis.total ?? 0) + input.by; return { total: globalThis.total };",
    }),
  );
});
afterAll(() => runtime.close());

async function inMemoryClient(tools: Tool[], session = "test"): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(tools, { session }).connect(serverSide);
  const client = new Client({ name: "test-client", version: "1.2.3" });
  await client.connect(clientSide);
  return client;
}

describe("serving over MCP", () => {
  test("tools/list offers exactly the tools given, with their JSON Schemas", async () => {
    const client = await inMemoryClient([reader]);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["read-file"]);
    expect(tools[0]?.description).toBe("Read a UTF-8 text file from the granted directory.");
    expect(tools[0]?.inputSchema).toMatchObject({
      type: "object",
      properties: { path: { type: "string" } },
      required: ["path"],
    });
    expect(tools[0]?.outputSchema).toMatchObject({
      type: "object",
      properties: { text: { type: "string" } },
    });
    await client.close();
  });

  test("tools/call runs the tool in its sandbox and returns text and structured content", async () => {
    const client = await inMemoryClient([reader]);
    const result = await client.callTool({ name: "read-file", arguments: { path: "hello.txt" } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ text: "hello over MCP" });
    expect(result.content).toEqual([{ type: "text", text: JSON.stringify({ text: "hello over MCP" }) }]);
    await client.close();
  });

  test("a denied call is a tool error a model can read, without host paths or grants", async () => {
    const client = await inMemoryClient([reader]);
    const result = await client.callTool({ name: "read-file", arguments: { path: "../../etc/passwd" } });
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ text: string }>)[0]?.text ?? "";
    expect(text).toBe('CAPABILITY_DENIED: path "../../etc/passwd" is outside the handle\'s directory');
    expect(text).not.toContain(base);
    await client.close();
  });

  test("a net denial reaches the model without the operator's hint; the host keeps the hint", async () => {
    const fetcher = await runtime.loadTool(
      writeTool(base, {
        name: "fetcher",
        input: "z.object({ url: z.string() })",
        output: "z.object({ status: z.number() })",
        capabilities: { api: { type: "net", rights: ["GET"] } },
        run: "const r = await caps.api.fetch(input.url); return { status: r.status };",
      }),
      { grants: { api: "net:GET:https://api.example.com" } },
    );
    const client = await inMemoryClient([fetcher]);
    const result = await client.callTool({ name: "fetcher", arguments: { url: "http://10.0.0.1/" } });
    expect((result.content as Array<{ text: string }>)[0]?.text).toBe(
      "CAPABILITY_DENIED: http://10.0.0.1 is not one of this handle's origins",
    );
    await client.close();
    const host = await fetcher.call({ url: "http://10.0.0.1/" }).catch((e: unknown) => e);
    expect(host).toMatchObject({
      code: "CAPABILITY_DENIED",
      message: "http://10.0.0.1 is not one of this handle's origins",
      hint: "to allow it, grant --grant api=net:GET:https://api.example.com,http://10.0.0.1",
    });
  });

  test("bad arguments are a tool error naming the field", async () => {
    const client = await inMemoryClient([reader]);
    const result = await client.callTool({ name: "read-file", arguments: { path: 42 } });
    expect(result.isError).toBe(true);
    expect((result.content as Array<{ text: string }>)[0]?.text).toMatch(
      /^INVALID_INPUT: .*expected string.*path/s,
    );
    await client.close();
  });

  test("an unknown tool is a protocol error, not a crash", async () => {
    const client = await inMemoryClient([reader]);
    await expect(client.callTool({ name: "rm-rf", arguments: {} })).rejects.toThrow(/unknown tool "rm-rf"/);
    expect(
      (await client.callTool({ name: "read-file", arguments: { path: "hello.txt" } })).isError,
    ).toBeFalsy();
    await client.close();
  });

  test("every call is audited with the client's identity and session", async () => {
    const client = await inMemoryClient([reader], "audited");
    await client.callTool({ name: "read-file", arguments: { path: "hello.txt" } });
    const records = runtime.auditRecords.filter((r) => r.session === "audited (test-client 1.2.3)");
    expect(records.map((r) => r.op)).toEqual(["readText", "run"]);
    await client.close();
  });

  test("a tool whose input is not an object cannot be served", () => {
    const plain = {
      name: "plain",
      definition: { inputSchema: { type: "string" }, outputSchema: {} },
    } as unknown as Tool;
    expect(() => createMcpServer([plain], { session: "x" })).toThrow(/its input must be an object/);
  });
});

describe("serving over Streamable HTTP", () => {
  test("the SDK client lists and calls tools over HTTP, on loopback", async () => {
    const served = await serveHttp([reader, counter], { port: 0 });
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = new Client({ name: "http-client", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(served.url)));
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["count", "read-file"]);
    const result = await client.callTool({ name: "read-file", arguments: { path: "hello.txt" } });
    expect(result.structuredContent).toEqual({ text: "hello over MCP" });
    const denied = await client.callTool({ name: "read-file", arguments: { path: "/etc/passwd" } });
    expect(denied.isError).toBe(true);
    await client.close();
    await served.close();
  });

  test("requests naming another host are refused (DNS rebinding)", async () => {
    const served = await serveHttp([reader], { port: 0 });
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } },
    });
    // fetch() drops a Host header it is given, so the request is made with node:http.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        served.url,
        {
          method: "POST",
          headers: {
            host: "evil.example",
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(status).toBe(403);
    await served.close();
  });

  test("a request without a session that is not an initialize is refused", async () => {
    const served = await serveHttp([reader], { port: 0 });
    const response = await fetch(served.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(response.status).toBe(400);
    await served.close();
  });
});
