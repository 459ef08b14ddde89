// The log handle inside a JS sandbox: its methods and the type tool authors see. Guest code (no Node types).
import { defineGuestAdapter, type HandleBase } from "../guest-kind.ts";

export interface LogHandle extends HandleBase {
  debug(...parts: unknown[]): Promise<null>;
  info(...parts: unknown[]): Promise<null>;
  warn(...parts: unknown[]): Promise<null>;
  error(...parts: unknown[]): Promise<null>;
  attenuate(request: { rights?: string[] }): Promise<LogHandle>;
}

export const logGuest = defineGuestAdapter<LogHandle>()({
  kind: "log",
  methods: (call) => ({
    debug: (...parts: unknown[]) => call("write", { level: "debug", message: parts.map(String).join(" ") }),
    info: (...parts: unknown[]) => call("write", { level: "info", message: parts.map(String).join(" ") }),
    warn: (...parts: unknown[]) => call("write", { level: "warn", message: parts.map(String).join(" ") }),
    error: (...parts: unknown[]) => call("write", { level: "error", message: parts.map(String).join(" ") }),
  }),
});
