// A worker thread that runs jco-transpile on one component: the component is untrusted input to jco, so its
// work (a second or more of CPU) happens off the host's event loop, under a time limit the host enforces.
import { parentPort, workerData } from "node:worker_threads";
import { transpileBytes } from "@bytecodealliance/jco-transpile";

export interface WorkerReply {
  ok: boolean;
  /** File name → contents, when ok. */
  files?: Record<string, Uint8Array>;
  exports?: string[];
  /** The first line of jco's error, when not ok. */
  error?: string;
}

const bytes = workerData as Uint8Array;
let reply: WorkerReply;
try {
  const result = await transpileBytes(bytes, {
    name: "tool",
    instantiation: "sync",
    // Everything stays in memory and inside the sandbox: no WASI shims, no base64-inlined modules, no Node APIs.
    wasiShim: false,
    nodejsCompat: false,
    tlaCompat: false,
    base64Cutoff: 0,
    emitTypescriptDeclarations: false,
    noComponentErrorWrapping: true,
  });
  reply = { ok: true, files: result.files, exports: result.exports.map(([name]) => name) };
} catch (error) {
  // Whatever jco throws becomes the load's error message; the host decides the code.
  reply = { ok: false, error: (error instanceof Error ? error.message : String(error)).split("\n")[0] };
}
parentPort?.postMessage(reply);
