// One cell: a supervised child process hosting sandboxes. Correlates every request with its answer, bounds
// every wait, and when the process dies fails exactly the requests in flight in it, each with a clean error.
import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { type ErrorCode, isErrorCode, WardenError } from "../errors.ts";
import { GuestReportedError, limitError } from "../isolates/results.ts";
import type { HostCall, Limits } from "../isolates/types.ts";
import { LineReader } from "./framing.ts";
import type { CellLaunch } from "./hardening.ts";
import type { Down, Failure, Up } from "./protocol.ts";
import { upSchema } from "./schemas.ts";

/** How long past its wall-time limit a load or call may run before the kernel kills the process running it. */
export const GRACE_MS = 1000;
/** Starting a process, importing an engine and making a sandbox; beyond this the cell is presumed stuck. */
const CREATE_BOUND_MS = 20_000;
/** How long a healthy cell may take to dispose a sandbox before it is killed instead. */
const DISPOSE_BOUND_MS = 2_000;
/**
 * Handle calls one sandbox may have waiting on the kernel (the V8 backend kills a sandbox past 256): more,
 * across a cell, means the cell itself is flooding the kernel.
 */
const MAX_WAITING_PER_SANDBOX = 256;
/** Frames a cell sends: a handle call's arguments (up to 16 MiB, escaped) or an output, plus slack. */
const BASE_FRAME_CHARS = 48 << 20;
/** Stderr kept from a cell, to tell an out-of-memory death from other crashes. */
const STDERR_TAIL = 8192;

/** Codes a cell's engine raises itself; any other code it reports is only a claim (see runtime/tool.ts). */
const ENGINE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "LIMIT_EXCEEDED",
  "INVALID_INPUT",
  "INVALID_OUTPUT",
  "TOOL_ERROR",
  "LOAD_ERROR",
  "SANDBOX_CRASHED",
  "INTERNAL",
]);

type Phase = "create" | "load" | "call" | "dispose";

interface Pending {
  sb: number;
  phase: Phase;
  limits: Limits;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface Port {
  hostCall: HostCall;
  limits: Limits;
  /** Set once the cell reports the sandbox can no longer run. */
  dead: boolean;
}

export type CellState = "live" | "draining" | "dead";

/** Why a cell ended, decided once: each request in flight is failed from it. */
type Cause =
  | { kind: "limit"; req: number }
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "protocol"; detail: string }
  | { kind: "stuck" }
  | { kind: "stopped" };

let nextCellId = 0;

export class Cell {
  readonly id = ++nextCellId;
  readonly pid: number | undefined;
  /** Whose sandboxes this cell holds; a spare has none until the pool gives it one. */
  placement: string | undefined;
  /** Called once when the cell has no sandboxes left or has died, so its pool can reuse or forget it. */
  onIdle: (cell: Cell) => void = () => {};
  private state: CellState = "live";
  private readonly child: ChildProcess;
  private readonly reader: LineReader;
  private readonly pending = new Map<number, Pending>();
  private readonly ports = new Map<number, Port>();
  private waitingCalls = 0;
  private nextReq = 0;
  private nextSb = 0;
  private stderrTail = "";
  private readonly exited: Promise<void>;

  /** Starts a cell, or adopts `started`: one launched the same way, ahead of time (see prestart.ts). */
  constructor(launch: CellLaunch, warm?: string, started?: ChildProcess) {
    const args = warm ? [...launch.args, `--warm=${warm}`] : launch.args;
    this.child = started ?? spawn(launch.command, args, { env: launch.env, stdio: ["pipe", "pipe", "pipe"] });
    this.pid = this.child.pid;
    this.reader = new LineReader(
      () => this.maxFrame(),
      (line) => this.onLine(line),
      (chars) => this.die({ kind: "protocol", detail: `a ${chars}-character message` }),
    );
    // An idle cell never keeps the kernel's process alive; each request's own timer does while it waits.
    this.hold(false);
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => this.reader.push(chunk));
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL);
    });
    // Writing to a cell that just died fails with EPIPE. Not an error of its own: the death is handled once,
    // on close, where the exit code or signal says what happened.
    this.child.stdin!.on("error", () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.die({ kind: "exit", code, signal });
        resolve();
      });
      this.child.on("error", (error) => {
        this.stderrTail += `\ncannot start a cell: ${error.message}`;
        this.die({ kind: "exit", code: null, signal: null });
        resolve();
      });
    });
  }

  get status(): CellState {
    return this.state;
  }

  get sandboxes(): number {
    return this.ports.size;
  }

  /** No new sandboxes go into a draining cell: one of its sandboxes was killed and its thread may still run. */
  drain(): void {
    if (this.state === "live") this.state = "draining";
  }

  /** Kills a cell that sent something the kernel will not believe (checked outside this class). */
  condemn(detail: string): void {
    this.die({ kind: "protocol", detail });
  }

  /** Makes a sandbox of `engine` in this cell; its handle calls reach the kernel through `hostCall`. */
  async open(engine: string, limits: Limits, hostCall: HostCall): Promise<number> {
    const sb = ++this.nextSb;
    this.ports.set(sb, { hostCall, limits, dead: false });
    try {
      await this.request({ t: "create", req: 0, sb, engine, limits }, "create", limits);
    } catch (error) {
      this.ports.delete(sb);
      this.idleCheck();
      throw error;
    }
    return sb;
  }

  isDead(sb: number): boolean {
    return this.state === "dead" || this.ports.get(sb)?.dead !== false;
  }

  load(sb: number, source: string, filename: string): Promise<unknown> {
    return this.request({ t: "load", req: 0, sb, module: { source, filename } }, "load", this.limitsOf(sb));
  }

  run(sb: number, inputJson: string, handlesJson: string, outputSchemaJson: string): Promise<unknown> {
    return this.request(
      { t: "run", req: 0, sb, inputJson, handlesJson, outputSchemaJson },
      "call",
      this.limitsOf(sb),
    );
  }

  /**
   * Disposes a sandbox. A dead one is not waited for: its engine may need seconds to let go of a thread,
   * and the cell is retired anyway once its last sandbox goes.
   */
  async close(sb: number): Promise<void> {
    const port = this.ports.get(sb);
    if (!port) return;
    if (this.state !== "dead") {
      // A cell that failed to dispose a sandbox is not given another one.
      const done = this.request({ t: "dispose", req: 0, sb }, "dispose", port.limits).then(
        () => undefined,
        () => this.drain(),
      );
      if (port.dead) this.drain();
      else await done;
    }
    this.ports.delete(sb);
    this.idleCheck();
  }

  /** Kills the process; requests in flight fail with SANDBOX_CRASHED. Resolves once the process is gone. */
  async stop(): Promise<void> {
    this.die({ kind: "stopped" });
    // Held until the process is gone, so a caller awaiting this is not cut short by an empty event loop.
    this.hold(true);
    await this.exited;
  }

  /** Whether the process and its pipes keep the kernel's event loop alive. */
  private hold(on: boolean): void {
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr]) {
      const h = handle as ChildProcess | Socket;
      if (on) h.ref();
      else h.unref();
    }
  }

  private limitsOf(sb: number): Limits {
    const port = this.ports.get(sb);
    if (!port) throw new WardenError("SANDBOX_CRASHED", "the sandbox is no longer running");
    return port.limits;
  }

  private maxFrame(): number {
    let outputKb = 0;
    for (const port of this.ports.values()) outputKb = Math.max(outputKb, port.limits.outputKb);
    return BASE_FRAME_CHARS + 8 * outputKb * 1024;
  }

  private request(message: Exclude<Down, { t: "reply" }>, phase: Phase, limits: Limits): Promise<unknown> {
    if (this.state === "dead")
      return Promise.reject(new WardenError("SANDBOX_CRASHED", "the sandbox's cell is no longer running"));
    const req = ++this.nextReq;
    const bound =
      phase === "create"
        ? CREATE_BOUND_MS
        : phase === "dispose"
          ? DISPOSE_BOUND_MS
          : limits.timeoutMs + GRACE_MS;
    return new Promise((resolve, reject) => {
      // The kernel's last resort: whatever the engine does, a request ends within its bound.
      const timer = setTimeout(
        () =>
          this.die(
            phase === "load" || phase === "call"
              ? { kind: "limit", req }
              : { kind: phase === "dispose" ? "stopped" : "stuck" },
          ),
        bound,
      );
      this.pending.set(req, { sb: message.sb, phase, limits, resolve, reject, timer });
      this.write({ ...message, req });
    });
  }

  private write(message: Down): void {
    if (this.state === "dead") return;
    this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  private onLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.die({ kind: "protocol", detail: "a message that is not JSON" });
      return;
    }
    const parsed = upSchema.safeParse(raw);
    if (!parsed.success) {
      this.die({ kind: "protocol", detail: "a malformed message" });
      return;
    }
    this.onMessage(parsed.data);
  }

  private onMessage(message: Up): void {
    if (message.t === "ready") return;
    if (message.t === "call") {
      const port = this.ports.get(message.sb);
      // A call from a sandbox already disposed was in the pipe when it went: nobody waits for its reply.
      if (!port) return;
      if (++this.waitingCalls > MAX_WAITING_PER_SANDBOX * Math.max(16, this.ports.size)) {
        this.die({ kind: "protocol", detail: "a flood of handle calls" });
        return;
      }
      const { sb, id } = message;
      void port.hostCall(message.fd, message.op, message.argsJson).then((json) => {
        this.waitingCalls--;
        if (this.ports.get(sb) === port) this.write({ t: "reply", sb, id, json });
      });
      return;
    }
    const pending = this.pending.get(message.req);
    if (!pending) {
      this.die({ kind: "protocol", detail: "an answer to nothing it was asked" });
      return;
    }
    this.pending.delete(message.req);
    clearTimeout(pending.timer);
    const port = this.ports.get(pending.sb);
    if (message.dead && port && !port.dead) {
      port.dead = true;
      this.drain();
    }
    if (message.t === "done") pending.resolve(message.value);
    else pending.reject(engineError(message.error, pending.phase));
  }

  /** Ends the cell once, failing every request in flight from the one cause. */
  private die(cause: Cause): void {
    if (this.state === "dead") return;
    this.state = "dead";
    this.reader.stop();
    this.child.kill("SIGKILL");
    const inFlight = [...this.pending.entries()];
    this.pending.clear();
    const work = inFlight.filter(([, p]) => p.phase === "load" || p.phase === "call");
    const oom = cause.kind === "exit" && /out of memory|allocation failed|heap limit/i.test(this.stderrTail);
    for (const [req, p] of inFlight) {
      clearTimeout(p.timer);
      const what =
        p.phase === "load" ? "loading the tool" : p.phase === "call" ? "the tool call" : "a sandbox";
      if (cause.kind === "limit" && cause.req === req && (p.phase === "load" || p.phase === "call")) {
        p.reject(limitError("wall", p.phase, p.limits));
      } else if (
        oom &&
        work.length === 1 &&
        work[0]![0] === req &&
        (p.phase === "load" || p.phase === "call")
      ) {
        p.reject(limitError("memory", p.phase, p.limits));
      } else if (p.phase === "dispose") {
        p.resolve(null);
      } else {
        p.reject(
          new WardenError(
            "SANDBOX_CRASHED",
            `${crashWords(cause)} during ${what}; the next call starts a fresh one`,
          ),
        );
      }
    }
    for (const port of this.ports.values()) port.dead = true;
    this.onIdle(this);
  }

  private idleCheck(): void {
    if (this.ports.size === 0 || this.state === "dead") this.onIdle(this);
  }
}

function crashWords(cause: Cause): string {
  switch (cause.kind) {
    case "limit":
      return "another sandbox in the same cell ran past its wall-time limit, so the cell was killed";
    case "protocol":
      return `the sandbox's cell sent ${cause.detail} and was killed`;
    case "stuck":
      return "the sandbox's cell did not answer in time and was killed";
    case "stopped":
      return "the sandbox's cell was stopped";
    case "exit":
      return cause.signal
        ? `the sandbox's cell was killed by ${cause.signal}`
        : `the sandbox's cell exited (code ${cause.code ?? "unknown"})`;
  }
}

/** An error a cell reports, as the kernel believes it: engine codes as they are, anything else as a claim. */
function engineError(failure: Failure, phase: Phase): Error {
  if (failure.guest) return new GuestReportedError(failure.code, failure.message);
  if (isErrorCode(failure.code) && ENGINE_CODES.has(failure.code))
    return new WardenError(failure.code, failure.message);
  if (phase === "call") return new GuestReportedError(failure.code, failure.message);
  return new WardenError("INTERNAL", `a cell reported an unexpected error (${failure.code})`);
}
