// Streamable HTTP for `warden mcp serve --http`: one MCP session per client, on loopback unless told otherwise.
import { randomUUID } from "node:crypto";
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { type InternalReporter, stderrReporter } from "../internal.ts";
import type { Tool } from "../tool.ts";
import { type Catalog, createMcpServer } from "./serve.ts";

export interface HttpServeOptions {
  port: number;
  /** Default 127.0.0.1: serving beyond this machine is a choice the operator makes explicitly. */
  host?: string;
  /** Where Warden's own failures go (default stderr); a runtime's is `runtime.kernel.internal`. */
  internal?: InternalReporter;
}

export interface RunningHttpServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 << 20;

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
}

export async function serveHttp(
  tools: readonly Tool[] | Catalog,
  options: HttpServeOptions,
): Promise<RunningHttpServer> {
  const host = options.host ?? "127.0.0.1";
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let allowedHosts: string[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? "/", "http://x").pathname !== "/mcp")
      return reply(res, 404, "not found: the MCP endpoint is /mcp");
    const sessionId = req.headers["mcp-session-id"];
    const existing = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
    if (existing) return existing.handleRequest(req, res);
    if (req.method !== "POST") return reply(res, 400, "no session: send an initialize request first");
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return reply(res, 400, "the request body is not JSON (or is over 4 MiB)");
    }
    if (!isInitializeRequest(body)) return reply(res, 400, "no session: send an initialize request first");
    const id = randomUUID();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: (id) => void sessions.set(id, transport),
      // A web page the operator visits must not be able to drive a loopback server through DNS rebinding.
      enableDnsRebindingProtection: true,
      allowedHosts,
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    const server = createMcpServer(tools, { session: `mcp-http:${id}` });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const internal = options.internal ?? stderrReporter;
  const http: HttpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // The cause goes to the operator log; the client gets the id that names it there.
      const reported = internal(error, `MCP HTTP ${req.method ?? "?"} request`);
      if (!res.headersSent) reply(res, 500, reported.message);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, host, resolve);
  });
  const { port } = http.address() as AddressInfo;
  const shown = host.includes(":") ? `[${host}]` : host;
  allowedHosts = [`${shown}:${port}`, `localhost:${port}`];
  return {
    url: `http://${shown}:${port}/mcp`,
    close: async () => {
      for (const transport of sessions.values()) await transport.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
