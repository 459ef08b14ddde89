// MCP over stdio with a bound on each message, both ways: a message over the bound is skipped as it streams
// (never buffered whole), answered with a JSON-RPC error, and the connection keeps serving.
import { type ChildProcess, spawn } from "node:child_process";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ErrorCode,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  McpError,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";

/** The largest message `warden mcp serve` reads on stdin (as over HTTP). The SDK's own reader closes the connection past 10 MiB. */
export const MAX_STDIO_MESSAGE_BYTES = 4 << 20;

/** How much of the start and the end of a skipped message is kept, to find its id. */
const EDGE_BYTES = 256;

/**
 * Splits a byte stream into newline-delimited lines, holding at most `limit` bytes of a line. A longer line
 * is dropped as it arrives; only its first and last bytes are kept, for `onOversized` to find the id in.
 */
export class LineFramer {
  private parts: Buffer[] = [];
  private size = 0;
  private head: Buffer | undefined;
  private tail = Buffer.alloc(0);
  private readonly limit: number;
  private readonly onLine: (line: string) => void;
  private readonly onOversized: (head: string, tail: string) => void;

  constructor(
    limit: number,
    onLine: (line: string) => void,
    onOversized: (head: string, tail: string) => void,
  ) {
    this.limit = limit;
    this.onLine = onLine;
    this.onOversized = onOversized;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const newline = chunk.indexOf(10, start);
      this.take(chunk.subarray(start, newline === -1 ? chunk.length : newline));
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.head) {
      this.tail = Buffer.concat([this.tail, piece]).subarray(-EDGE_BYTES);
      return;
    }
    if (this.size + piece.length <= this.limit) {
      this.parts.push(piece);
      this.size += piece.length;
      return;
    }
    const seen = Buffer.concat([...this.parts, piece]);
    this.head = seen.subarray(0, EDGE_BYTES);
    this.tail = seen.subarray(-EDGE_BYTES);
    this.parts = [];
    this.size = 0;
  }

  private endLine(): void {
    if (this.head) {
      const [head, tail] = [this.head.toString("utf8"), this.tail.toString("utf8")];
      this.head = undefined;
      this.tail = Buffer.alloc(0);
      this.onOversized(head, tail);
      return;
    }
    const line = Buffer.concat(this.parts).toString("utf8").replace(/\r$/, "");
    this.parts = [];
    this.size = 0;
    if (line.trim() !== "") this.onLine(line);
  }
}

const ID = String.raw`(-?\d+|"(?:[^"\\]|\\.)*")`;
// The SDK writes `id` last, other implementations first; either way it is a member of the outer object.
const ID_FIRST = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}`);
const ID_LAST = new RegExp(String.raw`"id"\s*:\s*${ID}\s*\}\s*$`);

/** The id of a message seen only by its first and last bytes, when one of them shows it. */
export function idOfSkipped(head: string, tail: string): RequestId | undefined {
  const match = ID_FIRST.exec(head) ?? ID_LAST.exec(tail);
  if (!match) return undefined;
  const id: unknown = JSON.parse(match[1]!);
  return typeof id === "number" || typeof id === "string" ? id : undefined;
}

function tooLarge(
  limit: number,
  what: string,
): { code: number; message: string; data: { maxBytes: number } } {
  return {
    code: ErrorCode.InvalidRequest,
    message: `${what} is over ${limit} bytes`,
    data: { maxBytes: limit },
  };
}

/** Whether an error is the refusal of an oversized message (from either transport here). */
export function isTooLarge(error: unknown): boolean {
  if (!(error instanceof McpError) || error.code !== ErrorCode.InvalidRequest) return false;
  const data = error.data as { maxBytes?: unknown } | undefined;
  return typeof data?.maxBytes === "number";
}

function parse(line: string): JSONRPCMessage {
  return JSONRPCMessageSchema.parse(JSON.parse(line));
}

/** The server side, on this process's stdin and stdout: an oversized request gets an error answer. */
export class BoundedStdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly framer: LineFramer;
  private readonly onData = (chunk: Buffer) => this.framer.push(chunk);
  private readonly onError = (error: Error) => this.onerror?.(error);
  private readonly stdin: NodeJS.ReadableStream;
  private readonly stdout: NodeJS.WritableStream;

  constructor(
    stdin: NodeJS.ReadableStream = process.stdin,
    stdout: NodeJS.WritableStream = process.stdout,
    limit = MAX_STDIO_MESSAGE_BYTES,
  ) {
    this.stdin = stdin;
    this.stdout = stdout;
    this.framer = new LineFramer(
      limit,
      (line) => {
        try {
          this.onmessage?.(parse(line));
        } catch (error) {
          this.onerror?.(error as Error);
        }
      },
      (head, tail) => {
        const id = idOfSkipped(head, tail);
        const error = tooLarge(limit, "the message");
        this.onerror?.(
          new Error(`refused a message over ${limit} bytes${id === undefined ? "" : ` (id ${id})`}`),
        );
        // JSON-RPC: an error about a request whose id cannot be read carries id null.
        void this.write({ jsonrpc: "2.0", id: id ?? null, error });
      },
    );
  }

  async start(): Promise<void> {
    this.stdin.on("data", this.onData);
    this.stdin.on("error", this.onError);
  }

  async close(): Promise<void> {
    this.stdin.off("data", this.onData);
    this.stdin.off("error", this.onError);
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(message);
  }

  private write(message: unknown): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.stdout.once("drain", resolve);
    });
  }
}

export interface StdioServerProcess {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  /** The largest message read from the server. */
  limit: number;
}

const STDERR_KEPT = 2048;

/**
 * The client side: starts a server process and talks to it. An oversized answer fails the one request it
 * answers (found by its id, or the only request in flight), and the connection stays up. What the process
 * wrote last on stderr and how it ended are kept, so a failure can say why.
 */
export class BoundedStdioClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private child: ChildProcess | undefined;
  private readonly inFlight = new Set<RequestId>();
  private stderrTail = "";
  private ended: string | undefined;
  private readonly server: StdioServerProcess;

  constructor(server: StdioServerProcess) {
    this.server = server;
  }

  /** How the process ended and the end of its stderr, for people; undefined while it runs. */
  exitDescription(): string | undefined {
    if (this.ended === undefined) return undefined;
    const said = this.stderrTail
      .replace(/\p{Cc}/gu, (c) => (c === "\n" ? c : ""))
      .trim()
      .split("\n")
      .slice(-3)
      .join(" | ")
      .slice(-400);
    return said ? `${this.ended}; its stderr ends: ${said}` : this.ended;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.server.command, [...this.server.args], {
        env: this.server.env,
        stdio: ["pipe", "pipe", "pipe"],
        shell: false,
      });
      this.child = child;
      const framer = new LineFramer(
        this.server.limit,
        (line) => {
          let message: JSONRPCMessage;
          try {
            message = parse(line);
          } catch (error) {
            this.onerror?.(error as Error);
            return;
          }
          if ("id" in message && !("method" in message) && message.id !== undefined)
            this.inFlight.delete(message.id);
          this.onmessage?.(message);
        },
        (head, tail) => {
          const named = idOfSkipped(head, tail);
          const id =
            named !== undefined && this.inFlight.has(named)
              ? named
              : this.inFlight.size === 1
                ? [...this.inFlight][0]!
                : undefined;
          if (id === undefined) {
            this.onerror?.(new Error(`skipped a message over ${this.server.limit} bytes from the server`));
            return;
          }
          this.inFlight.delete(id);
          this.onmessage?.({
            jsonrpc: "2.0",
            id: id as RequestId,
            error: tooLarge(this.server.limit, "the server's answer"),
          });
        },
      );
      child.on("error", (error) => {
        this.ended ??= `could not be started: ${error.message}`;
        reject(error);
        this.onerror?.(error);
      });
      child.on("spawn", () => resolve());
      child.on("close", (code, signal) => {
        this.ended ??= code !== null ? `exited with status ${code}` : `was killed by ${signal}`;
        this.child = undefined;
        this.onclose?.();
      });
      child.stdin?.on("error", (error) => this.onerror?.(error));
      child.stdout?.on("data", (chunk: Buffer) => framer.push(chunk));
      child.stderr?.on("data", (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_KEPT);
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin) return reject(new Error("Not connected"));
      if ("method" in message && "id" in message) this.inFlight.add(message.id);
      if (stdin.write(`${JSON.stringify(message)}\n`)) resolve();
      else stdin.once("drain", resolve);
    });
  }

  /** Ends the process: stdin closed, then SIGTERM, then SIGKILL, two seconds apart (as the SDK does). */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.ended ??= "was stopped by Warden";
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const within = (ms: number) =>
      Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
    child.stdin?.end();
    await within(2000);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await within(2000);
    }
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
