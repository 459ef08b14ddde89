// The cell wire protocol: one JSON message per line between the kernel and a cell. Plain types here, so a
// cell starts without loading zod; the kernel parses what a cell sends with the schemas in schemas.ts.
import type { Limits, SandboxModule, Usage } from "../isolates/types.ts";

/** Kernel to cell. Every request but `reply` carries `req` and is answered by one `done` or `fail`. */
export type Down =
  | { t: "create"; req: number; sb: number; engine: string; limits: Limits }
  | { t: "load"; req: number; sb: number; module: SandboxModule }
  | { t: "run"; req: number; sb: number; inputJson: string; handlesJson: string; outputSchemaJson: string }
  | { t: "dispose"; req: number; sb: number }
  /** The kernel's answer to a sandbox's handle call. */
  | { t: "reply"; sb: number; id: number; json: string };

export interface Failure {
  /** True when the guest reported the error itself: the kernel decides whether to believe its code. */
  guest: boolean;
  code: string;
  message: string;
}

/** Cell to kernel: untrusted until parsed. */
export type Up =
  | { t: "ready" }
  /** A sandbox's handle call; `id` is the sandbox's own counter, echoed in the reply. */
  | { t: "call"; sb: number; id: number; fd: number; op: string; argsJson: string }
  | { t: "done"; req: number; value: unknown; dead: boolean }
  | { t: "fail"; req: number; error: Failure; dead: boolean };

export interface RunValue {
  outputJson: string;
  usage: Usage;
}

/** Longest error message a cell sends; longer ones are cut in the cell, so the kernel can bound them. */
export const MAX_MESSAGE_CHARS = 4096;

/** Engine names double as folder names under runtime/isolates/, so they are kept to plain words. */
export const ENGINE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
