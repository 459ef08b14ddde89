// console inside a sandbox: lines go to the tool's log handle when it holds one, and nowhere otherwise,
// the same on every backend. Runs inside sandboxes; a console call never throws and never waits.
import { hostCall } from "../channel.ts";

/** The longest line one console call sends; the rest is cut with a marker (the log handle caps the total). */
export const MAX_LINE = 8192;
/** How deep, and how many entries per object, a logged object is shown. */
const DEPTH = 2;
const ENTRIES = 50;

/** The descriptor of the log handle console writes to during the running call, if the tool holds one. */
let target: number | undefined;

export function setConsoleTarget(fd: number | undefined): void {
  target = fd;
}

/** Appends to `out` until the line is full: formatting a huge value never builds more than the line. */
class Line {
  text = "";
  get full(): boolean {
    return this.text.length > MAX_LINE;
  }
  add(part: string): void {
    if (!this.full) this.text += part.length > MAX_LINE ? part.slice(0, MAX_LINE + 1) : part;
  }
}

/** The text of one value, as far as the line has room. */
function scalar(value: unknown, quote: boolean): string | undefined {
  if (typeof value === "string") return quote ? JSON.stringify(value.slice(0, MAX_LINE)) : value;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return `[Function: ${value.name || "(anonymous)"}]`;
  if (value === null || typeof value !== "object") return String(value);
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  return undefined;
}

function show(value: unknown, line: Line, depth: number, seen: Set<object>, quote: boolean): void {
  if (line.full) return;
  const text = scalar(value, quote);
  if (text !== undefined) {
    line.add(text);
    return;
  }
  const object = value as object;
  const array = Array.isArray(object);
  if (seen.has(object)) line.add("[Circular]");
  else if (depth > DEPTH) line.add(array ? "[Array]" : "[Object]");
  else {
    seen.add(object);
    line.add(array ? "[" : "{");
    const keys = array ? [...object.keys()].map(String) : Object.keys(object);
    keys.slice(0, ENTRIES).forEach((key, i) => {
      line.add(i === 0 ? " " : ", ");
      if (!array) line.add(/^[A-Za-z_$][\w$]*$/.test(key) ? `${key}: ` : `${JSON.stringify(key)}: `);
      show((object as Record<string, unknown>)[key], line, depth + 1, seen, true);
    });
    if (keys.length > ENTRIES) line.add(`, ... ${keys.length - ENTRIES} more`);
    line.add(keys.length > 0 ? (array ? " ]" : " }") : array ? "]" : "}");
    seen.delete(object);
  }
}

export function formatLine(parts: unknown[]): string {
  const line = new Line();
  parts.forEach((part, i) => {
    if (i > 0) line.add(" ");
    show(part, line, 0, new Set(), false);
  });
  if (!line.full) return line.text;
  return `${line.text.slice(0, MAX_LINE)}… (cut at ${MAX_LINE} characters)`;
}

type Level = "debug" | "info" | "warn" | "error";

function write(level: Level, parts: unknown[]): void {
  const fd = target;
  if (fd === undefined) return;
  let message: string;
  try {
    message = formatLine(parts);
  } catch {
    message = "[a value console could not format]";
  }
  // A refusal (the log budget, the in-flight cap) only drops the line: console never fails a tool.
  try {
    hostCall(fd, "write", { level, message }).then(undefined, () => undefined);
  } catch {
    // A tool that replaced Promise.prototype.then broke only its own console.
  }
}

export function makeConsole(): Readonly<Record<string, (...args: unknown[]) => void>> {
  return Object.freeze({
    log: (...args: unknown[]) => {
      write("info", args);
    },
    info: (...args: unknown[]) => {
      write("info", args);
    },
    debug: (...args: unknown[]) => {
      write("debug", args);
    },
    trace: (...args: unknown[]) => {
      write("debug", args);
    },
    warn: (...args: unknown[]) => {
      write("warn", args);
    },
    error: (...args: unknown[]) => {
      write("error", args);
    },
    assert: (condition?: unknown, ...args: unknown[]) => {
      if (!condition) write("error", ["Assertion failed", ...args]);
    },
  });
}
