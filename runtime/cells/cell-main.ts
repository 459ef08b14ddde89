// The program a cell process runs: it hosts sandboxes of any engine and forwards their messages to the kernel
// over stdin/stdout. It holds no handles, grants or kernel state: every handle call crosses to the kernel.
import { WardenError } from "../errors.ts";
import { GuestReportedError } from "../isolates/results.ts";
import type { Sandbox } from "../isolates/types.ts";
import { loadEngine } from "./engines.ts";
import { LineReader } from "./framing.ts";
import { type Down, type Failure, MAX_MESSAGE_CHARS, type Up } from "./protocol.ts";

/** The kernel's own frames are bounded by what it sends: a module, an input, a reply to a handle call. */
const MAX_DOWN_CHARS = 512 << 20;

const sandboxes = new Map<number, Sandbox>();
/** Handle calls waiting for the kernel, by sandbox and the sandbox's call id. */
const waiting = new Map<number, Map<number, (json: string) => void>>();
const nextCall = new Map<number, number>();

function send(message: Up): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function failure(error: unknown): Failure {
  if (error instanceof GuestReportedError)
    return { guest: true, code: error.code.slice(0, 64), message: error.message.slice(0, MAX_MESSAGE_CHARS) };
  if (error instanceof WardenError)
    return { guest: false, code: error.code, message: error.message.slice(0, MAX_MESSAGE_CHARS) };
  // An engine bug: details go to the cell's stderr (the operator's), never into a reply.
  process.stderr.write(`cell: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return { guest: false, code: "INTERNAL", message: "internal error in a cell" };
}

function hostCallFor(sb: number) {
  return (fd: number, op: string, argsJson: string): Promise<string> =>
    new Promise((resolve) => {
      const id = (nextCall.get(sb) ?? 0) + 1;
      nextCall.set(sb, id);
      const calls = waiting.get(sb) ?? new Map<number, (json: string) => void>();
      waiting.set(sb, calls);
      calls.set(id, resolve);
      send({ t: "call", sb, id, fd, op, argsJson });
    });
}

async function handle(message: Down): Promise<void> {
  if (message.t === "reply") {
    const calls = waiting.get(message.sb);
    const resolve = calls?.get(message.id);
    calls?.delete(message.id);
    resolve?.(message.json);
    return;
  }
  const { req, sb } = message;
  const sandbox = sandboxes.get(sb);
  try {
    let value: unknown;
    if (message.t === "create") {
      if (sandbox) throw new WardenError("INTERNAL", `sandbox ${sb} already exists in this cell`);
      const engine = await loadEngine(message.engine);
      sandboxes.set(sb, await engine.create({ limits: message.limits, hostCall: hostCallFor(sb) }));
    } else {
      if (!sandbox) throw new WardenError("INTERNAL", `no sandbox ${sb} in this cell`);
      if (message.t === "load") value = await sandbox.load(message.module);
      else if (message.t === "run")
        value = await sandbox.run(message.inputJson, message.handlesJson, message.outputSchemaJson);
      else {
        sandboxes.delete(sb);
        waiting.delete(sb);
        nextCall.delete(sb);
        await sandbox.dispose();
      }
    }
    send({ t: "done", req, value: value ?? null, dead: sandbox?.dead ?? false });
  } catch (error) {
    send({ t: "fail", req, error: failure(error), dead: sandbox?.dead ?? true });
  }
}

const KINDS = new Set(["create", "load", "run", "dispose", "reply"]);

/** The kernel is trusted; this only stops a bug from turning into a confusing failure later. */
function onLine(line: string): void {
  const message = JSON.parse(line) as Down;
  if (!KINDS.has(message.t) || typeof message.sb !== "number") {
    process.stderr.write("cell: malformed message from the kernel\n");
    process.exit(70);
  }
  void handle(message);
}

const reader = new LineReader(
  () => MAX_DOWN_CHARS,
  onLine,
  () => process.exit(70),
);
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => reader.push(chunk));
// The kernel went away: nothing in a cell outlives it.
process.stdin.on("end", () => process.exit(0));

// Spare cells warm an engine before they are needed, so placing a sandbox costs no import or snapshot.
const warm = process.argv.find((a) => a.startsWith("--warm="))?.slice("--warm=".length);
if (warm) {
  const engine = await loadEngine(warm);
  const sandbox = await engine.create({
    limits: { timeoutMs: 5000, cpuMs: 1000, memoryMb: 16, outputKb: 1 },
    hostCall: async () => "null",
  });
  await sandbox.dispose();
}
send({ t: "ready" });
