// Where a backend may not end a shared case the way the table says, and why: one checked list. An entry
// is not a skip: the case still runs on that backend and must end exactly as written here, so a backend
// whose behaviour changes (for better or worse) fails the case until this list is updated.
import { type Backend, engineOf } from "./tools.ts";

export interface Difference {
  code: string;
  message: RegExp;
  /** Why this backend ends the case differently, and why the wall still holds. */
  why: string;
}

/** table → case name → backend → how the case ends there instead. */
export const DIFFERENCES: Record<string, Record<string, Partial<Record<Backend, Difference>>>> = {
  exhaustion: {
    "Atomics.wait on a shared buffer": {
      quickjs: {
        code: "TOOL_ERROR",
        message: /ReferenceError: 'Atomics' is not defined/,
        why: "QuickJS is built without Atomics, so nothing can block the thread: the case ends before it starts",
      },
    },
    "deep recursion": {
      quickjs: {
        code: "TOOL_ERROR",
        message: /InternalError: stack overflow/,
        why: "QuickJS's own stack limit (256 KiB) names it differently; the sandbox survives, as on V8",
      },
    },
    "string doubling bomb": {
      quickjs: {
        code: "TOOL_ERROR",
        message: /InternalError: string too long/,
        why: "QuickJS's string length cap (2^30 - 1) names it differently",
      },
    },
    "array buffers past the heap limit": {
      quickjs: {
        code: "LIMIT_EXCEEDED",
        message: /memory limit of 32 MiB/,
        why:
          "V8 keeps buffers outside its heap and refuses them with a catchable RangeError; in QuickJS every " +
          "allocation is on the one capped heap, and hitting the cap ends the sandbox like any memory kill",
      },
    },
  },
};

/** The outcome a backend must reach on a case: the table's own, unless this list says otherwise. */
export function expectedOutcome(
  table: string,
  name: string,
  backend: string,
  fallback: { code: string; message?: RegExp },
): { code: string; message?: RegExp } {
  // A backend named with its isolation ("quickjs:in-process") ends cases as its engine does.
  return DIFFERENCES[table]?.[name]?.[engineOf(backend)] ?? fallback;
}

/** Case names the list mentions for a table; each must still exist there (checked by the table). */
export function differencesIn(table: string): string[] {
  return Object.keys(DIFFERENCES[table] ?? {});
}
