// Headers a net grant makes the kernel add to its requests (credentials from the secret store), and keeping
// their values out of everything a guest can read back.
import { WardenError } from "../../errors.ts";
import { expandTemplate, SECRET_NAME, type SecretStore, secretRefs } from "../../secrets.ts";
import type { Grant } from "../types.ts";
import type { FetchResult } from "./fetch.ts";
import type { NetScope } from "./spec.ts";

export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space, tab and obs-text; CR, LF and NUL would split the request.
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers the transport owns, or that would let a request be rerouted or smuggled. */
const FORBIDDEN_HEADERS = new Set([
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "content-length",
  "upgrade",
  "expect",
]);

export function isForbiddenHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN_HEADERS.has(lower) || lower.startsWith("proxy-");
}

function usage(message: string): WardenError {
  return new WardenError(
    "USAGE",
    `${message}. A header is NAME: VALUE, where VALUE may name secrets, e.g. Authorization: Bearer \${secret:github}`,
  );
}

/**
 * Why a header cannot be bound, in words for whoever wrote it (a flag, a policy field), or undefined.
 * `taken` holds the lower-cased names already bound. Never includes a value: only templates reach here.
 */
export function headerProblem(
  name: string,
  template: string,
  taken: ReadonlySet<string>,
): string | undefined {
  if (!HEADER_NAME.test(name)) return `"${name}" is not a header name`;
  if (isForbiddenHeader(name)) return `header "${name}" is set by the transport and cannot be bound`;
  if (taken.has(name.toLowerCase())) return `header "${name}" is bound twice`;
  for (const ref of secretRefs(template)) {
    if (!SECRET_NAME.test(ref))
      return `header "${name}" names "\${secret:${ref}}", which is not a secret name`;
  }
  if (!HEADER_VALUE.test(template.replace(/\$\{secret:[^}]*\}/g, ""))) {
    return `header "${name}" holds a control character`;
  }
  return undefined;
}

/** Checks the headers a grant binds; returns the grant with them (names as written, one per name). */
export function withHeaders(
  grant: Grant<NetScope>,
  headers: Readonly<Record<string, string>>,
): Grant<NetScope> {
  const bound: Record<string, string> = { ...grant.scope.headers };
  const taken = new Set(Object.keys(bound).map((name) => name.toLowerCase()));
  for (const [name, template] of Object.entries(headers)) {
    const problem = headerProblem(name, template, taken);
    if (problem !== undefined) throw usage(problem);
    taken.add(name.toLowerCase());
    bound[name] = template;
  }
  return { ...grant, scope: { ...grant.scope, headers: bound } };
}

/** The bound headers with their secrets filled in, lower-cased names; read from the store on every request. */
export async function boundHeaders(
  scope: NetScope,
  store: SecretStore | undefined,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(scope.headers ?? {})) {
    if (secretRefs(template).length > 0 && !store) {
      throw new WardenError("USAGE", `header "${name}" names a secret, and this runtime has no secret store`);
    }
    out[name.toLowerCase()] = store ? await expandTemplate(template, store) : template;
  }
  return out;
}

/**
 * A guest may not set, and so may not read back by a server's echo of a header it chose, a header the grant
 * binds: refused, not overwritten, so a tool learns at once that the kernel owns it.
 */
export function refuseBoundHeaders(scope: NetScope, guest: Readonly<Record<string, string>>): void {
  const bound = new Set(Object.keys(scope.headers ?? {}).map((name) => name.toLowerCase()));
  for (const name of Object.keys(guest)) {
    if (bound.has(name.toLowerCase())) {
      throw new WardenError(
        "INVALID_ARGUMENT",
        `header "${name}" is set by Warden on this handle's requests and may not be sent by a tool`,
      );
    }
  }
}

/** The result with every secret value replaced in what a guest reads: header values and the final URL. */
export function redactResult(result: FetchResult, store: SecretStore): FetchResult {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers)) headers[name] = store.redact(value);
  return { ...result, url: store.redact(result.url), headers };
}
