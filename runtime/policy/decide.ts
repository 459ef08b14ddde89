// The kernel's decision for one handle call, computed without running anything: for policy tests and explain.
//
// It applies the gate's own steps in the gate's order (runtime/kernel.ts `invoke`: the op must be an own
// member of the kind's ops, its args parse with the op's schema, the op's right and `alsoRequires` must be
// held, then the op's `check`), using the kinds' own objects, so the rules live in one place: the kinds.
// What the gate leaves to an operation's run is added for fs only: the lexical path check every fs op does
// first (runtime/capabilities/fs/path.ts). test/policy/decide.test.ts runs the same cases through the real
// kernel, so a drift between the two fails a test.
import { z } from "zod";
import { parseGuestPath } from "../capabilities/fs/path.ts";
import type { CapabilityKind, Grant } from "../capabilities/types.ts";
import { type ErrorCode, WardenError } from "../errors.ts";
import { ATTENUATE_OP } from "../protocol/codec.ts";

export interface CallDecision {
  allow: boolean;
  /** The code the kernel would answer a denied call with. */
  code?: ErrorCode;
  /** Why, in the kernel's words. */
  reason: string;
  /** What the decision cannot see from here (the file system's state, DNS), when it matters. */
  note?: string;
}

/** Argument fields that fs operations resolve as paths below the handle's root. */
const FS_PATH_FIELDS = ["path", "from", "to"] as const;

function deny(error: WardenError): CallDecision {
  return { allow: false, code: error.code, reason: error.message };
}

export function decide(
  kind: CapabilityKind,
  grant: Grant<unknown>,
  handle: string,
  opName: string,
  rawArgs: unknown,
): CallDecision {
  // The gate lets any held handle derive a narrower one: it grants nothing the handle does not hold.
  if (opName === ATTENUATE_OP) return { allow: true, reason: "attenuation only narrows a handle" };
  const op = Object.hasOwn(kind.ops, opName) ? kind.ops[opName] : undefined;
  if (!op) {
    return deny(
      new WardenError(
        "INVALID_ARGUMENT",
        `handle "${handle}" (${kind.kind}) has no operation "${opName}"; it has: ${Object.keys(kind.ops).join(", ")}`,
      ),
    );
  }
  const parsed = op.args.safeParse(rawArgs);
  if (!parsed.success) {
    return deny(
      new WardenError(
        "INVALID_ARGUMENT",
        `bad arguments to ${handle}.${opName}: ${z.prettifyError(parsed.error)}`,
      ),
    );
  }
  const args: unknown = parsed.data;
  const right = typeof op.right === "function" ? op.right(args) : op.right;
  for (const needed of [right, ...(op.alsoRequires ?? [])]) {
    if (!grant.rights.includes(needed)) {
      return deny(
        new WardenError(
          "CAPABILITY_DENIED",
          `the "${needed}" right is missing on handle "${handle}" (${kind.kind}; it has: ${grant.rights.join(", ") || "none"})`,
        ),
      );
    }
  }
  // `check` reads only the grant (net: the origin); no resource is opened for a decision.
  const refused = op.check?.({ grant, resource: undefined }, args);
  if (refused !== undefined) {
    const reason = typeof refused === "string" ? refused : refused.reason;
    return { allow: false, code: "CAPABILITY_DENIED", reason };
  }
  if (kind.kind === "fs") {
    for (const field of FS_PATH_FIELDS) {
      const value = (args as Record<string, unknown>)[field];
      if (typeof value !== "string") continue;
      try {
        parseGuestPath(value);
      } catch (error) {
        if (error instanceof WardenError) return deny(error);
        throw error;
      }
    }
  }
  return { allow: true, reason: `allowed: "${right}" is granted`, note: noteFor(kind, grant, opName) };
}

function noteFor(kind: CapabilityKind, grant: Grant<unknown>, opName: string): string | undefined {
  if (
    kind.kind === "fs" &&
    (opName === "writeText" || opName === "writeBytes") &&
    !grant.rights.includes("create")
  ) {
    return "only if the file exists: creating a new file also needs the create right";
  }
  if (kind.kind === "net") {
    return "a host granted by name is reached only if it resolves to a public address; redirects are checked again";
  }
  return undefined;
}
