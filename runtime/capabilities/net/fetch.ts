// The net kind's HTTP client: one request per hop, connecting only to addresses the policy has checked.
import type { LookupAddress, LookupOptions } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { WardenError } from "../../errors.ts";
import { addressAllowed, type HostPolicy, hostPolicy, type ParsedAddress, parseAddress } from "./address.ts";
import type { Method } from "./spec.ts";

/** Resolves a host name to every address it has; injectable so tests never touch real DNS. */
export type LookupFn = (hostname: string) => Promise<ReadonlyArray<{ address: string; family?: number }>>;

export const defaultLookup: LookupFn = (hostname) => dnsLookup(hostname, { all: true, order: "verbatim" });

export interface Hop {
  url: URL;
  method: Method;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  /** Names (lower case) of the headers the grant bound (credentials): they never leave the first origin. */
  bound?: readonly string[];
}

export interface FetchResult {
  status: number;
  statusText: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface FetchEnv {
  lookup: LookupFn;
  signal: AbortSignal;
  /** Charges response bytes to the sandbox's budget for data in flight (see OpContext.reserve). */
  reserve?: (bytes: number) => void;
  maxResponseBytes: number;
  maxRedirects: number;
  /** Throws CAPABILITY_DENIED unless the handle may send `method` to `url`'s origin. */
  authorize(url: URL, method: Method, redirected: boolean): void;
  /** The error for a host whose resolved address the policy refuses. */
  refuseAddress(url: URL, method: Method): WardenError;
}

interface Exchange {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Uint8Array;
  location: string | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// Transport error codes in plain words; the raw message is never used because it names the resolved address.
const TRANSPORT_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "name did not resolve",
  EAI_AGAIN: "name did not resolve",
  ENODATA: "name did not resolve",
};

function transportWords(code: string): string {
  if (TRANSPORT_WORDS[code]) return TRANSPORT_WORDS[code];
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO/.test(code)) return "TLS handshake failed";
  if (code.startsWith("HPE_")) return "the server sent an invalid HTTP response";
  return "connection failed";
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

export function netError(url: URL, words: string): WardenError {
  return new WardenError("NET_ERROR", `request to ${url.origin} failed: ${words}`);
}

/** Maps what a request threw; errors without a transport code are bugs and pass through to the gate. */
function mapFailure(error: unknown, url: URL, signal: AbortSignal): unknown {
  if (error instanceof WardenError) return error;
  if (signal.aborted) {
    return signal.reason instanceof WardenError ? signal.reason : netError(url, "the call was aborted");
  }
  const code = errorCode(error);
  return code === undefined ? error : netError(url, transportWords(code));
}

async function resolveChecked(hop: Hop, policy: HostPolicy, hostname: string, env: FetchEnv) {
  let answers: ReadonlyArray<{ address: string }>;
  try {
    answers = await env.lookup(hostname);
  } catch (error) {
    const code = errorCode(error);
    if (code === undefined) throw error;
    throw netError(hop.url, transportWords(code));
  }
  if (answers.length === 0) throw netError(hop.url, "name did not resolve");
  const checked: ParsedAddress[] = [];
  // One refused answer refuses the name: a mixed answer is how rebinding attacks look.
  for (const answer of answers) {
    const parsed = parseAddress(answer.address);
    if (!parsed || !addressAllowed(parsed, policy)) throw env.refuseAddress(hop.url, hop.method);
    checked.push(parsed);
  }
  return checked;
}

/** A socket lookup that hands back only checked addresses, so the connection goes where the check looked. */
function checkedLookup(hop: Hop, policy: HostPolicy, hostname: string, env: FetchEnv): LookupFunction {
  return (_requested: string, options: LookupOptions, callback) => {
    resolveChecked(hop, policy, hostname, env).then(
      (checked) => {
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = family === undefined ? checked : checked.filter((a) => a.family === family);
        const first = usable[0];
        if (!first) return callback(netError(hop.url, "name did not resolve"), "");
        if (options.all) {
          const all: LookupAddress[] = usable.map((a) => ({ address: a.address, family: a.family }));
          return callback(null, all);
        }
        return callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, ""),
    );
  };
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

function limitError(url: URL, max: number): WardenError {
  return new WardenError(
    "LIMIT_EXCEEDED",
    `response from ${url.origin} is larger than this handle's limit of ${max} bytes`,
  );
}

function concat(chunks: readonly Buffer[], total: number): Uint8Array {
  // A fresh, exact buffer: Buffer.concat may share Node's pool, which holds other requests' bytes.
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function exchange(hop: Hop, env: FetchEnv): Promise<Exchange> {
  const { url } = hop;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const policy = hostPolicy(hostname);
  // A literal host never reaches the lookup, so it is judged here, before any socket exists.
  if (policy.kind === "literal" && !addressAllowed(policy.address, policy)) {
    return Promise.reject(env.refuseAddress(url, hop.method));
  }
  const secure = url.protocol === "https:";
  const options: https.RequestOptions = {
    protocol: url.protocol,
    host: hostname,
    port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method: hop.method,
    headers: hop.headers,
    // A private agent per hop: no pooled socket outlives its check, and no proxy is read from the environment.
    agent: secure ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false }),
    lookup: checkedLookup(hop, policy, hostname, env),
    signal: env.signal,
  };
  // Explicit, so NODE_TLS_REJECT_UNAUTHORIZED in the host's environment cannot switch verification off.
  if (secure) options.rejectUnauthorized = true;
  const max = env.maxResponseBytes;
  return new Promise<Exchange>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(mapFailure(error, url, env.signal));
    };
    const req = (secure ? https : http).request(options, (res) => {
      const status = res.statusCode ?? 0;
      const head = { status, statusText: res.statusMessage ?? "", headers: flattenHeaders(res.headers) };
      res.on("error", fail);
      const location = REDIRECTS.has(status) ? res.headers.location : undefined;
      if (location !== undefined) {
        settled = true;
        res.destroy();
        resolve({ ...head, body: new Uint8Array(0), location });
        return;
      }
      // HEAD, 204 and 304 declare a length for a body they never send.
      const bodiless = hop.method === "HEAD" || status === 204 || status === 304;
      const declared = Number(res.headers["content-length"]);
      if (!bodiless && Number.isFinite(declared) && declared > max) return fail(limitError(url, max));
      const chunks: Buffer[] = [];
      let total = 0;
      res.on("data", (chunk: Buffer) => {
        total += chunk.length;
        if (total > max) return fail(limitError(url, max));
        try {
          env.reserve?.(chunk.length);
        } catch (error) {
          return fail(error);
        }
        chunks.push(chunk);
      });
      res.on("end", () => {
        if (settled) return;
        settled = true;
        resolve({ ...head, body: concat(chunks, total), location: undefined });
      });
      res.on("close", () => fail(netError(url, "the connection closed before the response ended")));
    });
    req.on("error", fail);
    req.end(hop.body);
  });
}

// Headers that carry a credential for one origin; they must not follow a redirect to another.
const CREDENTIAL_HEADERS = ["authorization", "cookie"];
// Headers that describe a body; they go when a redirect turns the request into a GET.
const BODY_HEADERS = ["content-type", "content-encoding", "content-language", "content-location"];

function withoutHeaders(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

function nextHop(hop: Hop, status: number, location: string): Hop {
  let url: URL;
  try {
    url = new URL(location, hop.url);
  } catch {
    throw netError(hop.url, "the server redirected to an invalid URL");
  }
  url.username = "";
  url.password = "";
  url.hash = "";
  const toGet =
    status === 303 ? hop.method !== "HEAD" : (status === 301 || status === 302) && hop.method === "POST";
  const sameOrigin = url.origin === hop.url.origin;
  const bound = sameOrigin ? (hop.bound ?? []) : [];
  let headers = sameOrigin
    ? hop.headers
    : withoutHeaders(hop.headers, [...CREDENTIAL_HEADERS, ...(hop.bound ?? [])]);
  if (toGet) headers = withoutHeaders(headers, BODY_HEADERS);
  return { url, method: toGet ? "GET" : hop.method, headers, body: toGet ? undefined : hop.body, bound };
}

/** Sends `first` and follows redirects by hand, authorising each hop's origin, method and address afresh. */
export async function fetchWithPolicy(first: Hop, env: FetchEnv): Promise<FetchResult> {
  let hop = first;
  for (let redirects = 0; ; redirects++) {
    if (env.signal.aborted) throw mapFailure(env.signal.reason, hop.url, env.signal);
    env.authorize(hop.url, hop.method, redirects > 0);
    const response = await exchange(hop, env);
    if (response.location === undefined) {
      const { location: _location, ...result } = response;
      return { ...result, url: hop.url.href };
    }
    if (redirects >= env.maxRedirects) {
      throw new WardenError(
        "LIMIT_EXCEEDED",
        `request to ${first.url.origin} was redirected more than ${env.maxRedirects} times`,
      );
    }
    hop = nextHop(hop, response.status, response.location);
  }
}
