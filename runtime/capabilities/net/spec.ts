// The net grant's syntax: methods and exact origins in, a normalised scope and its spec text out.
import type { Grant } from "../types.ts";
import { neverDestination, parseAddress } from "./address.ts";

export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type Method = (typeof METHODS)[number];

export interface NetScope {
  /** Serialised WHATWG origins, e.g. "https://api.example.com" or "http://127.0.0.1:8080". */
  origins: string[];
  maxResponseBytes: number;
  maxRedirects: number;
  /**
   * Headers the kernel adds to every request (name as written → value template, e.g. "Bearer
   * ${secret:github}"). Templates only: a secret's value is never held in a grant.
   */
  headers?: Record<string, string>;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;
export const VALID_SPEC_EXAMPLE = "net:GET,POST:https://api.example.com,http://127.0.0.1:8080";

export function isMethod(value: string): value is Method {
  return (METHODS as readonly string[]).includes(value);
}

const SCHEME_FIRST = /^[a-z][a-z0-9+.-]*:\/\//i;
const SLASH_PREFIX = /^(?:[a-z]+:\/\/)?(.+)\/\d{1,3}\/?$/i;

function isCidr(raw: string): boolean {
  const host = SLASH_PREFIX.exec(raw)?.[1];
  return host !== undefined && parseAddress(host) !== undefined;
}

/**
 * Normalises one origin, or says why it cannot be granted. Everything refused here is something Warden
 * could not enforce exactly: a wildcard, a range, or a path it would not check.
 */
export function parseOrigin(raw: string): { origin: string } | { error: string } {
  if (raw === "") return { error: "an origin is empty" };
  if (raw.includes("*")) {
    return { error: `"${raw}" uses a wildcard; grant each origin exactly, listing them separated by commas` };
  }
  if (isCidr(raw)) {
    return { error: `"${raw}" is an address range; grant each origin exactly, e.g. http://10.0.0.5:8080` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: `"${raw}" is not an origin; write scheme://host[:port]` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return {
      error: `"${raw}" has scheme "${url.protocol.slice(0, -1)}"; net grants http and https origins only`,
    };
  }
  if (url.username !== "" || url.password !== "") {
    return { error: `"${raw}" has credentials in it; pass them as a header on each request instead` };
  }
  if (url.pathname !== "/") {
    return {
      error: `"${raw}" has a path; a grant covers a whole origin, so write scheme://host[:port] only`,
    };
  }
  // After a successful parse "?" and "#" can only be delimiters: hosts cannot contain them.
  if (raw.includes("?")) return { error: `"${raw}" has a query; write scheme://host[:port] only` };
  if (raw.includes("#")) return { error: `"${raw}" has a fragment; write scheme://host[:port] only` };
  const literal = parseAddress(url.hostname);
  const never = literal && neverDestination(literal);
  if (never) {
    return { error: `"${raw}" is not one host (${never} address); name the host itself` };
  }
  return { origin: url.origin };
}

function usage(body: string, reason: string): string {
  return `bad net grant "net:${body}": ${reason}. A valid spec looks like ${VALID_SPEC_EXAMPLE}`;
}

export type SpecResult = { grant: Grant<NetScope> } | { error: string };

/** Parses what follows "net:": `METHODS:ORIGIN[,ORIGIN...]`, or origins alone for the default rights. */
export function parseNetSpec(body: string, defaultRights: readonly Method[]): SpecResult {
  let methodsText: string | undefined;
  let originsText = body;
  if (!SCHEME_FIRST.test(body)) {
    const colon = body.indexOf(":");
    if (colon < 0) return { error: usage(body, "it names no origin") };
    methodsText = body.slice(0, colon);
    originsText = body.slice(colon + 1);
  }
  const rights = new Set<Method>(methodsText === undefined ? defaultRights : []);
  for (const word of methodsText?.split(",") ?? []) {
    const method = word.trim().toUpperCase();
    if (!isMethod(method)) {
      return { error: usage(body, `"${word}" is not a method; the methods are ${METHODS.join(", ")}`) };
    }
    rights.add(method);
  }
  const origins = new Set<string>();
  for (const word of originsText.split(",")) {
    const parsed = parseOrigin(word.trim());
    if ("error" in parsed) return { error: usage(body, parsed.error) };
    origins.add(parsed.origin);
  }
  return {
    grant: {
      rights: METHODS.filter((method) => rights.has(method)),
      scope: {
        origins: [...origins],
        maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
        maxRedirects: DEFAULT_MAX_REDIRECTS,
      },
    },
  };
}

export function formatNetSpec(grant: Grant<NetScope>): string {
  return `net:${grant.rights.join(",")}:${grant.scope.origins.join(",")}`;
}

function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

function list(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

function describeHeaders(headers: Record<string, string> | undefined): string {
  const parts = Object.entries(headers ?? {}).map(([name, template]) => {
    const refs = [...template.matchAll(/\$\{secret:([^}]*)\}/g)].map((match) => match[1]!);
    return refs.length > 0 ? `${name} (from secret ${list([...new Set(refs)])})` : name;
  });
  return parts.length > 0
    ? `; Warden adds the header${parts.length > 1 ? "s" : ""} ${list(parts)}, which the tool never sees`
    : "";
}

export function describeNet(grant: Grant<NetScope>): string {
  const { origins, maxResponseBytes, maxRedirects } = grant.scope;
  return (
    `send ${list(grant.rights)} requests to ${list(origins)} ` +
    `(responses up to ${formatBytes(maxResponseBytes)}, following up to ${maxRedirects} redirects within these origins` +
    `${describeHeaders(grant.scope.headers)})`
  );
}
