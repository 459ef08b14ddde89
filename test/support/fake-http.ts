// Test helper: a local HTTP server (127.0.0.1, random port) that answers each request with the next queued
// reply: JSON, an SSE stream (slow or cut short), raw bytes, or nothing at all. It records what it received.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SseEvent {
  event?: string;
  data: string;
}

export type Reply =
  | { json: unknown; status?: number; headers?: Record<string, string> }
  | {
      sse: SseEvent[];
      /** Wait this long before each event. */
      delayMs?: number;
      /** Drop the connection after this many events, without ending the stream properly. */
      cutAfter?: number;
    }
  | { raw: string; status?: number; contentType?: string }
  /** Never answer; the client must give up (an abort is seen as `aborted`). */
  | { hang: true };

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export class FakeServer {
  readonly received: Received[] = [];
  private readonly replies: Reply[] = [];
  /** Requests whose client went away before the reply was done. */
  aborted = 0;
  private server: Server | undefined;
  url = "";
  private readonly authorize: (req: IncomingMessage) => Reply | undefined;

  constructor(authorize: (req: IncomingMessage) => Reply | undefined) {
    this.authorize = authorize;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Queues replies, answered in order; a request with none queued gets a 500 naming the test's mistake. */
  reply(...replies: Reply[]): this {
    this.replies.push(...replies);
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // recorded as text
    }
    this.received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
    let gone = false;
    res.on("close", () => {
      if (!res.writableEnded) {
        gone = true;
        this.aborted++;
      }
    });
    const reply = this.authorize(req) ??
      this.replies.shift() ?? { json: { error: "no reply queued" }, status: 500 };
    if ("json" in reply) {
      res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
      res.end(JSON.stringify(reply.json));
    } else if ("raw" in reply) {
      res.writeHead(reply.status ?? 200, { "content-type": reply.contentType ?? "application/json" });
      res.end(reply.raw);
    } else if ("sse" in reply) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (const [i, e] of reply.sse.entries()) {
        if (reply.cutAfter !== undefined && i >= reply.cutAfter) {
          res.destroy();
          return;
        }
        if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
        if (gone) return;
        res.write(`${e.event ? `event: ${e.event}\n` : ""}data: ${e.data}\n\n`);
      }
      res.end();
    }
    // hang: nothing is written; the client's abort closes the socket.
  }
}
