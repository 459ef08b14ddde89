// The handle objects a tool's run() receives, one adapter per kind, turning method calls into kernel requests.
// Runs inside sandboxes. A handle is only a descriptor: forging or mutating one gains nothing the kernel has not granted.
import { utf8Decode } from "../../runtime/protocol/utf8.ts";
import { hostCall } from "./channel.ts";

export interface HandleInfo {
  fd: number;
  kind: string;
  rights: readonly string[];
}

type Call = (op: string, args?: unknown) => Promise<unknown>;
type Methods = Record<string, (...args: never[]) => unknown>;

interface FetchResult {
  status: number;
  statusText: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

function response(r: FetchResult) {
  return Object.freeze({
    status: r.status,
    statusText: r.statusText,
    ok: r.status >= 200 && r.status < 300,
    url: r.url,
    headers: Object.freeze({
      get: (name: string) => r.headers[String(name).toLowerCase()] ?? null,
      entries: () => Object.entries(r.headers),
    }),
    bytes: async () => r.body,
    arrayBuffer: async () => r.body.slice().buffer,
    text: async () => utf8Decode(r.body),
    json: async () => JSON.parse(utf8Decode(r.body)) as unknown,
  });
}

const adapters: Record<string, (call: Call) => Methods> = {
  fs: (call) => ({
    readText: (path: string) => call("readText", { path }),
    readBytes: (path: string) => call("readBytes", { path }),
    writeText: (path: string, text: string, options?: { append?: boolean }) =>
      call("writeText", { path, text, ...options }),
    writeBytes: (path: string, bytes: Uint8Array, options?: { append?: boolean }) =>
      call("writeBytes", { path, bytes, ...options }),
    list: (path?: string) => call("list", { path: path ?? "" }),
    stat: (path: string) => call("stat", { path }),
    mkdir: (path: string, options?: { recursive?: boolean }) => call("mkdir", { path, ...options }),
    remove: (path: string, options?: { recursive?: boolean }) => call("remove", { path, ...options }),
    rename: (from: string, to: string) => call("rename", { from, to }),
  }),
  net: (call) => ({
    fetch: async (
      url: string,
      init?: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array },
    ) => response((await call("fetch", { url: String(url), ...init })) as FetchResult),
  }),
  kv: (call) => ({
    get: (key: string) => call("get", { key }),
    set: (key: string, value: unknown) => call("set", { key, value }),
    delete: (key: string) => call("delete", { key }),
    list: (prefix?: string, options?: { limit?: number }) =>
      call("list", { prefix: prefix ?? "", ...options }),
  }),
  clock: (call) => ({
    now: () => call("now"),
    sleep: (ms: number) => call("sleep", { ms }),
  }),
  // Whole completions: the guest gets the answer once it is complete (the kernel may stream it from the provider).
  model: (call) => ({
    complete: (request: Record<string, unknown>) => call("complete", request),
  }),
  log: (call) => ({
    debug: (...parts: unknown[]) => call("write", { level: "debug", message: parts.map(String).join(" ") }),
    info: (...parts: unknown[]) => call("write", { level: "info", message: parts.map(String).join(" ") }),
    warn: (...parts: unknown[]) => call("write", { level: "warn", message: parts.map(String).join(" ") }),
    error: (...parts: unknown[]) => call("write", { level: "error", message: parts.map(String).join(" ") }),
  }),
};

export function makeHandle(info: HandleInfo): Readonly<Record<string, unknown>> {
  const call: Call = (op, args) => hostCall(info.fd, op, args);
  const methods = adapters[info.kind]?.(call) ?? {};
  return Object.freeze({
    ...methods,
    kind: info.kind,
    rights: Object.freeze([...info.rights]),
    /** A narrower handle: fewer rights and/or a narrower scope (a subdirectory, a key prefix). */
    attenuate: async (request: Record<string, unknown>) => {
      const child = (await hostCall(info.fd, "$attenuate", request)) as { fd: number; rights: string[] };
      return makeHandle({ fd: child.fd, kind: info.kind, rights: child.rights });
    },
  });
}
