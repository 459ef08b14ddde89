// The clock capability: wall-clock time, coarse by default so it is a poor timer for side channels.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { parseRights } from "../rights.ts";
import type { CapabilityKind, Grant } from "../types.ts";
import { defineOperation } from "../types.ts";

export interface ClockScope {
  /** Readings are rounded down to this many milliseconds. */
  resolutionMs: number;
}

export const CLOCK_RIGHTS = ["read", "sleep"] as const;
const RIGHTS = CLOCK_RIGHTS;
/** The resolutions a grant may name, in milliseconds. */
export const CLOCK_RESOLUTIONS: Readonly<Record<string, number>> = { "1ms": 1, "100ms": 100, "1s": 1000 };
const RESOLUTIONS = CLOCK_RESOLUTIONS;
export const DEFAULT_RESOLUTION_MS = 100;

function formatSpec(g: Grant<ClockScope>): string {
  return `clock:${g.rights.join(",")}:${g.scope.resolutionMs === 1000 ? "1s" : `${g.scope.resolutionMs}ms`}`;
}

export function createClockKind(now: () => number = Date.now): CapabilityKind<ClockScope, void> {
  return {
    kind: "clock",
    rights: RIGHTS,
    defaultRights: RIGHTS,
    parseSpec(body: string): Grant<ClockScope> {
      if (body === "") return { rights: [...RIGHTS], scope: { resolutionMs: DEFAULT_RESOLUTION_MS } };
      const [rightsText = "", resolution, ...rest] = body.split(":");
      const resolutionMs = resolution === undefined ? DEFAULT_RESOLUTION_MS : RESOLUTIONS[resolution];
      if (rest.length > 0 || resolutionMs === undefined) {
        throw new WardenError(
          "USAGE",
          `bad clock grant "clock:${body}"; use clock, clock:read or clock:read:RES with RES one of ${Object.keys(RESOLUTIONS).join(", ")}`,
        );
      }
      return { rights: parseRights("clock", rightsText, RIGHTS), scope: { resolutionMs } };
    },
    formatSpec,
    auditForm: formatSpec,
    describe: (g) =>
      `${g.rights.includes("read") ? `read the time to ${g.scope.resolutionMs} ms` : ""}${g.rights.length === 2 ? " and " : ""}${g.rights.includes("sleep") ? "sleep (within its wall-time limit)" : ""}`,
    async open() {},
    async close() {},
    narrowArgs: z.strictObject({ resolutionMs: z.int().positive() }),
    async narrow(parent, request) {
      const { resolutionMs } = z.strictObject({ resolutionMs: z.int().positive() }).parse(request);
      // Coarser only: a finer clock would be a wider capability.
      return { resolutionMs: Math.max(resolutionMs, parent.grant.scope.resolutionMs) };
    },
    ops: {
      now: defineOperation<ClockScope, void, Record<string, never>>({
        right: "read",
        args: z.strictObject({}),
        async run({ grant }) {
          const r = grant.scope.resolutionMs;
          return Math.floor(now() / r) * r;
        },
        summary: () => "now",
      }),
      sleep: defineOperation<ClockScope, void, { ms: number }>({
        right: "sleep",
        args: z.strictObject({
          ms: z
            .number()
            .min(0)
            .max(24 * 3600 * 1000),
        }),
        run(_target, { ms }, ctx) {
          const stopped = () =>
            ctx.signal.reason instanceof WardenError
              ? ctx.signal.reason
              : new WardenError("LIMIT_EXCEEDED", "sleep was cut short: the call ended");
          if (ctx.signal.aborted) return Promise.reject(stopped());
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => resolve(null), ms);
            ctx.signal.addEventListener(
              "abort",
              () => {
                clearTimeout(timer);
                reject(stopped());
              },
              { once: true },
            );
          });
        },
        summary: (a) => `sleep ${a.ms}ms`,
      }),
    },
  };
}
