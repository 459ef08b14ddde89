// The program a sandbox thread runs (see backend.ts): one sandbox of an engine, its phases asked for and its
// handle calls answered by the kernel's thread through messages. It holds nothing of the kernel.
import { parentPort, workerData } from "node:worker_threads";
import { loadEngine } from "../../cells/engines.ts";
import { WardenError } from "../../errors.ts";
import { clip, TEXT_BOUNDS } from "../../text-bounds.ts";
import { GuestReportedError } from "../results.ts";
import type { Limits, Sandbox } from "../types.ts";
import type { ThreadDown, ThreadFailure, ThreadUp } from "./backend.ts";

const port = parentPort!;
const { engine, limits } = workerData as { engine: string; limits: Limits };
const waiting = new Map<number, (json: string) => void>();
let nextCall = 0;

function post(message: ThreadUp): void {
  port.postMessage(message);
}

function failure(error: unknown): ThreadFailure {
  if (error instanceof GuestReportedError) return { guest: true, code: error.code, message: error.message };
  if (error instanceof WardenError)
    return { guest: false, code: error.code, message: clip(error.message, TEXT_BOUNDS.message) };
  // An engine bug: details go to the operator's stderr, never into a reply.
  process.stderr.write(
    `sandbox thread: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return { guest: false, code: "INTERNAL", message: "internal error in a sandbox thread" };
}

let sandbox: Sandbox;
try {
  sandbox = await (await loadEngine(engine)).create({
    limits,
    hostCall: (fd, op, argsJson) =>
      new Promise((resolve) => {
        const id = ++nextCall;
        waiting.set(id, resolve);
        post({ t: "call", id, fd, op, argsJson });
      }),
  });
} catch (error) {
  post({ t: "fail", req: 0, error: failure(error), dead: true });
  throw error;
}

port.on("message", async (message: ThreadDown) => {
  if (message.t === "reply") {
    const resolve = waiting.get(message.id);
    waiting.delete(message.id);
    resolve?.(message.json);
    return;
  }
  try {
    let value: unknown = null;
    if (message.t === "load") value = await sandbox.load(message.module);
    else value = await sandbox.run(message.inputJson, message.handlesJson, message.outputSchemaJson);
    post({ t: "done", req: message.req, value, dead: sandbox.dead });
  } catch (error) {
    post({ t: "fail", req: message.req, error: failure(error), dead: sandbox.dead });
  }
});
post({ t: "ready" });
