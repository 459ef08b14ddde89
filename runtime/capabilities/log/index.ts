// The log capability: lines from a tool to its host's log, capped so a chatty tool cannot flood it.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { parseRights } from "../rights.ts";
import type { CapabilityKind, Grant } from "../types.ts";
import { defineOperation } from "../types.ts";

export interface LogScope {
  maxBytes: number;
}
/** Bytes written through a handle; a derived handle's budget also draws on its parent's, so attenuating cannot refill it. */
export interface LogBudget {
  used: number;
  max: number;
  parent: LogBudget | undefined;
}
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogSink = (line: { level: LogLevel; message: string; owner: string }) => void;

export const LOG_RIGHTS = ["write"] as const;
const RIGHTS = LOG_RIGHTS;
export const DEFAULT_MAX_BYTES = 1 << 20;
const narrowArgs = z.strictObject({ maxBytes: z.int().positive() });

export function createLogKind(sink: LogSink): CapabilityKind<LogScope, LogBudget> {
  return {
    kind: "log",
    rights: RIGHTS,
    defaultRights: RIGHTS,
    parseSpec(body: string): Grant<LogScope> {
      const rights = body === "" ? [...RIGHTS] : parseRights("log", body, RIGHTS);
      return { rights, scope: { maxBytes: DEFAULT_MAX_BYTES } };
    },
    formatSpec: (g) => `log:${g.rights.join(",")}`,
    auditForm: (g) => `log:${g.rights.join(",")}`,
    describe: (g) => `write up to ${Math.round(g.scope.maxBytes / 1024)} KiB of log lines`,
    async open(grant, parent) {
      return { used: 0, max: grant.scope.maxBytes, parent: parent?.resource };
    },
    async close() {},
    narrowArgs,
    async narrow(parent, request) {
      const { maxBytes } = narrowArgs.parse(request);
      return { maxBytes: Math.min(maxBytes, parent.grant.scope.maxBytes) };
    },
    ops: {
      write: defineOperation<LogScope, LogBudget, { level: LogLevel; message: string }>({
        right: "write",
        args: z.strictObject({ level: z.enum(["debug", "info", "warn", "error"]), message: z.string() }),
        async run({ resource }, { level, message }, ctx) {
          const bytes = Buffer.byteLength(message);
          for (let b: LogBudget | undefined = resource; b; b = b.parent) {
            if (b.used + bytes > b.max) {
              throw new WardenError("LIMIT_EXCEEDED", `log output passed ${b.max} bytes`);
            }
          }
          for (let b: LogBudget | undefined = resource; b; b = b.parent) b.used += bytes;
          sink({ level, message, owner: ctx.owner ?? ctx.handleName });
          return null;
        },
        summary: (a) => `${a.level} (${a.message.length} chars)`,
      }),
    },
  };
}
