// One-file grants (`fs:read:./config.json`): every path a call names must be that file's own name.
import type { OpenHandle, Operation } from "../types.ts";
import { parseGuestPath, quote } from "./path.ts";
import type { FsScope } from "./spec.ts";

/** Argument fields fs operations resolve as paths below the handle's root. */
const PATH_FIELDS = ["path", "from", "to"] as const;

/**
 * The reason a call on a one-file handle names something other than its file, or undefined. Lexical
 * only (the gate's `check`, and policy decisions, run it without touching the disk); the operation then
 * reaches the file through the handle's open directory with O_NOFOLLOW like any other fs path.
 */
export function outsideOneFile(scope: FsScope, args: unknown): string | undefined {
  const file = scope.file;
  if (file === undefined) return undefined;
  for (const field of PATH_FIELDS) {
    const raw = (args as Record<string, unknown>)[field];
    if (typeof raw !== "string") continue;
    let parts: readonly string[];
    try {
      parts = parseGuestPath(raw).parts;
    } catch {
      return undefined; // the operation itself refuses a malformed path, with its own message
    }
    if (parts.length !== 1 || parts[0] !== file) {
      return `this handle grants one file, ${quote(file)}; ${raw === "" ? "its directory" : `path ${quote(raw)}`} is outside it`;
    }
  }
  return undefined;
}

/** Adds the one-file check to an fs operation, keeping any check it already has. */
export function withOneFileCheck<Resource, Args>(
  op: Operation<FsScope, Resource, Args>,
): Operation<FsScope, Resource, Args> {
  const own = op.check;
  return {
    ...op,
    check: (target: OpenHandle<FsScope, Resource>, args: Args) =>
      outsideOneFile(target.grant.scope, args) ?? own?.(target, args),
  };
}
