// The log capability: lines from a tool to its host's log, capped so a chatty tool cannot flood it.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { parseRights } from "../rights.ts";
import type { CapabilityKind, Grant } from "../types.ts";
import { defineOperation } from "../types.ts";

export interface LogScope {
  maxBytes: number;
}
export interface LogResource {
  written: number;
}
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogSink = (line: { level: LogLevel; message: string; owner: string }) => void;

const RIGHTS = ["write"] as const;
const DEFAULT_MAX_BYTES = 1 << 20;

export function createLogKind(sink: LogSink): CapabilityKind<LogScope, LogResource> {
  return {
    kind: "log",
    rights: RIGHTS,
    defaultRights: RIGHTS,
    parseSpec(body: string): Grant<LogScope> {
      const rights = body === "" ? [...RIGHTS] : parseRights("log", body, RIGHTS);
      return { rights, scope: { maxBytes: DEFAULT_MAX_BYTES } };
    },
    formatSpec: (g) => `log:${g.rights.join(",")}`,
    describe: (g) => `write up to ${Math.round(g.scope.maxBytes / 1024)} KiB of log lines`,
    async open() {
      return { written: 0 };
    },
    async close() {},
    narrowArgs: z.strictObject({ maxBytes: z.int().positive() }),
    async narrow(parent, request) {
      const { maxBytes } = z.strictObject({ maxBytes: z.int().positive() }).parse(request);
      return { maxBytes: Math.min(maxBytes, parent.grant.scope.maxBytes) };
    },
    ops: {
      write: defineOperation<LogScope, LogResource, { level: LogLevel; message: string }>({
        right: "write",
        args: z.strictObject({ level: z.enum(["debug", "info", "warn", "error"]), message: z.string() }),
        async run({ grant, resource }, { level, message }, ctx) {
          resource.written += message.length;
          if (resource.written > grant.scope.maxBytes) {
            throw new WardenError("LIMIT_EXCEEDED", `log output passed ${grant.scope.maxBytes} bytes`);
          }
          sink({ level, message, owner: ctx.owner ?? ctx.handleName });
          return null;
        },
        summary: (a) => `${a.level} (${a.message.length} chars)`,
      }),
    },
  };
}
