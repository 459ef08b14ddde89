// The `net` capability kind: HTTP(S) requests to exactly the granted origins, never to hidden addresses.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { type SecretStore, secretRefs } from "../../secrets.ts";
import {
  type CapabilityKind,
  defineOperation,
  type Grant,
  type OpContext,
  type OpenHandle,
} from "../types.ts";
import {
  boundHeaders,
  HEADER_NAME,
  HEADER_VALUE,
  isForbiddenHeader,
  redactResult,
  refuseBoundHeaders,
  withHeaders,
} from "./credentials.ts";
import { defaultLookup, fetchWithPolicy, type LookupFn } from "./fetch.ts";
import {
  describeNet,
  formatNetSpec,
  METHODS,
  type Method,
  type NetScope,
  parseNetSpec,
  parseOrigin,
} from "./spec.ts";

export type { LookupFn } from "./fetch.ts";
export type { NetScope } from "./spec.ts";

export const MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024;

/** Why a guest's URL cannot be fetched, or undefined. Never throws: zod runs every refinement, even after one failed. */
function urlProblem(text: string): string | undefined {
  const url = URL.parse(text);
  if (!url)
    return "must be an absolute URL (with scheme and host, such as https://api.example.com/data.json)";
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https URL";
  if (url.username !== "" || url.password !== "") return "must not carry credentials; send them in a header";
  return undefined;
}

const httpUrl = z
  .string()
  .max(8192)
  .superRefine((text, ctx) => {
    const problem = urlProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });

const fetchArgs = z.object({
  url: httpUrl,
  method: z
    .string()
    .default("GET")
    .transform((text) => text.toUpperCase())
    .pipe(z.enum(METHODS)),
  headers: z
    .record(
      z.string().max(256).regex(HEADER_NAME, "header names must be HTTP tokens"),
      z.string().max(8192).regex(HEADER_VALUE, "header values must not contain control characters"),
    )
    .refine((headers) => Object.keys(headers).length <= 100, "at most 100 headers")
    .optional(),
  body: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
});

export type FetchArgs = z.infer<typeof fetchArgs>;

const narrowArgs = z.object({
  origins: z.array(z.string().max(2048)).min(1).max(256).optional(),
  maxResponseBytes: z.number().int().positive().optional(),
  maxRedirects: z.number().int().min(0).optional(),
});

/** The handle's grant widened by one method and origin: what the operator's hint names (never the guest). */
function widened(grant: Grant<NetScope>, method: Method, origin: string): string {
  const rights = grant.rights.includes(method) ? grant.rights : [...grant.rights, method];
  const origins = grant.scope.origins.includes(origin)
    ? grant.scope.origins
    : [...grant.scope.origins, origin];
  return formatNetSpec({ ...grant, rights, scope: { ...grant.scope, origins } });
}

function originReason(url: URL): string {
  return `${url.origin} is not one of this handle's origins`;
}

function summarise(args: FetchArgs): string {
  const url = new URL(args.url);
  // Path only: query strings and header values are where tokens live.
  const path = url.pathname.length > 200 ? `${url.pathname.slice(0, 200)}...` : url.pathname;
  return `${args.method} ${url.origin}${path}`;
}

function requestBody(body: FetchArgs["body"], url: URL): Uint8Array | undefined {
  if (body === undefined) return undefined;
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  if (bytes.byteLength > MAX_REQUEST_BODY_BYTES) {
    throw new WardenError(
      "LIMIT_EXCEEDED",
      `request body for ${url.origin} is ${bytes.byteLength} bytes; the limit is ${MAX_REQUEST_BODY_BYTES}`,
    );
  }
  return bytes;
}

function guestHeaders(headers: FetchArgs["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (isForbiddenHeader(name)) {
      throw new WardenError(
        "INVALID_ARGUMENT",
        `header "${name}" is set by Warden and may not be sent by a tool`,
      );
    }
    out[name.toLowerCase()] = value;
  }
  return out;
}

interface NetEnv {
  lookup: LookupFn;
  secrets: SecretStore | undefined;
}

/** Runs a fetch; no text a guest reads back (result or error) holds a secret value the store handed out. */
async function runFetch(grant: Grant<NetScope>, args: FetchArgs, ctx: OpContext, env: NetEnv) {
  const { secrets } = env;
  try {
    const result = await fetchOnce(grant, args, ctx, env);
    return secrets ? redactResult(result, secrets) : result;
  } catch (error) {
    throw secrets ? redactError(error, secrets) : error;
  }
}

/** How deep a chain of causes is scrubbed; the internal log writes no deeper (runtime/internal.ts). */
const MAX_CAUSES = 8;

/**
 * Replaces secret values in an error's message and stack, and its causes': an INTERNAL failure's cause and
 * stack go to the operator's log, which holds no secret value either.
 */
function scrub(error: unknown, secrets: SecretStore, depth = 0): void {
  if (!(error instanceof Error) || depth > MAX_CAUSES) return;
  error.message = secrets.redact(error.message);
  if (error.stack !== undefined) error.stack = secrets.redact(error.stack);
  scrub(error.cause, secrets, depth + 1);
}

/** A failure whose every text (message, operator hint, the grant it names, causes) has no secret value in it. */
function redactError(error: unknown, secrets: SecretStore): unknown {
  if (!(error instanceof WardenError)) {
    scrub(error, secrets);
    return error;
  }
  const { denial } = error;
  scrub(error.cause, secrets);
  return new WardenError(
    error.code,
    secrets.redact(error.message),
    denial && { ...denial, grant: denial.grant === undefined ? undefined : secrets.redact(denial.grant) },
    error.hint === undefined ? undefined : secrets.redact(error.hint),
    { cause: error.cause, incident: error.incident },
  );
}

async function fetchOnce(grant: Grant<NetScope>, args: FetchArgs, ctx: OpContext, env: NetEnv) {
  const url = new URL(args.url);
  url.hash = "";
  const guest = guestHeaders(args.headers);
  refuseBoundHeaders(grant.scope, guest);
  let bound: Record<string, string>;
  try {
    bound = await boundHeaders(grant.scope, env.secrets);
  } catch (error) {
    if (!(error instanceof WardenError)) throw error;
    // The operator's words (which secret, which source) stay host-side; the guest learns only that it failed.
    throw new WardenError(
      "NET_ERROR",
      `request to ${url.origin} failed: a credential this handle sends is unavailable`,
      undefined,
      error.message,
    );
  }
  const headers = { ...guest, ...bound };
  const body = requestBody(args.body, url);
  const deny = (message: string, right: Method, origin: string) =>
    new WardenError("CAPABILITY_DENIED", message, {
      handle: ctx.handleName,
      right,
      grant: widened(grant, right, origin),
    });
  return fetchWithPolicy(
    { url, method: args.method, headers, body, bound: Object.keys(bound) },
    {
      lookup: env.lookup,
      signal: ctx.signal,
      reserve: ctx.reserve,
      maxResponseBytes: grant.scope.maxResponseBytes,
      maxRedirects: grant.scope.maxRedirects,
      authorize(hopUrl, method, redirected) {
        const prefix = redirected
          ? `handle "${ctx.handleName}" was redirected to ${hopUrl.origin}, but `
          : "";
        if (hopUrl.protocol !== "http:" && hopUrl.protocol !== "https:") {
          throw new WardenError("CAPABILITY_DENIED", `${prefix}net reaches http and https URLs only`, {
            handle: ctx.handleName,
            right: method,
          });
        }
        if (!grant.scope.origins.includes(hopUrl.origin)) {
          throw deny(`${prefix}${originReason(hopUrl)}`, method, hopUrl.origin);
        }
        if (!grant.rights.includes(method)) {
          throw deny(
            `${prefix}handle "${ctx.handleName}" may not send ${method} requests`,
            method,
            hopUrl.origin,
          );
        }
      },
      refuseAddress(hopUrl, method) {
        // Neither the address nor its class is named: the guest learns only that this host is out of reach.
        return new WardenError(
          "CAPABILITY_DENIED",
          `${hopUrl.host} resolves to an address this handle may not reach: a host granted by name reaches ` +
            "public addresses only; to reach a private or local service, grant its IP address as the origin",
          { handle: ctx.handleName, right: method },
        );
      },
    },
  );
}

function narrowScope(parent: OpenHandle<NetScope, void>, request: z.infer<typeof narrowArgs>): NetScope {
  const scope = parent.grant.scope;
  const origins: string[] = [];
  for (const raw of request.origins ?? scope.origins) {
    const parsed = parseOrigin(raw);
    if ("error" in parsed) throw new WardenError("INVALID_ARGUMENT", parsed.error);
    if (!scope.origins.includes(parsed.origin)) {
      throw new WardenError(
        "CAPABILITY_DENIED",
        `cannot narrow to ${parsed.origin}: the parent handle lacks it`,
      );
    }
    if (!origins.includes(parsed.origin)) origins.push(parsed.origin);
  }
  return {
    ...scope,
    origins,
    maxResponseBytes: Math.min(scope.maxResponseBytes, request.maxResponseBytes ?? scope.maxResponseBytes),
    maxRedirects: Math.min(scope.maxRedirects, request.maxRedirects ?? scope.maxRedirects),
  };
}

export function createNetKind(
  options: { lookup?: LookupFn; secrets?: SecretStore } = {},
): CapabilityKind<NetScope, void> {
  const env: NetEnv = { lookup: options.lookup ?? defaultLookup, secrets: options.secrets };
  const defaultRights: readonly Method[] = ["GET"];
  return {
    kind: "net",
    rights: METHODS,
    defaultRights,
    parseSpec(body) {
      const parsed = parseNetSpec(body, defaultRights);
      if ("error" in parsed) throw new WardenError("USAGE", parsed.error);
      return parsed.grant;
    },
    withHeaders,
    secretsOf: (grant) => Object.values(grant.scope.headers ?? {}).flatMap(secretRefs),
    formatSpec: formatNetSpec,
    // The origins and methods are what the guest was granted: nothing of the host's. Bound headers are
    // left out (formatNetSpec never writes them), so not even a header's name or secret name is recorded.
    auditForm: formatNetSpec,
    describe: describeNet,
    async open(grant, parent) {
      // A root grant fails at load, not at its first request, when a secret it names cannot be read.
      if (!parent) await boundHeaders(grant.scope, env.secrets);
    },
    async close() {},
    narrowArgs,
    async narrow(parent, request) {
      return narrowScope(parent, narrowArgs.parse(request));
    },
    ops: {
      fetch: defineOperation<NetScope, void, FetchArgs>({
        right: (args) => args.method,
        args: fetchArgs,
        summary: summarise,
        check(target, args) {
          const url = new URL(args.url);
          if (target.grant.scope.origins.includes(url.origin)) return undefined;
          return { reason: originReason(url), grant: widened(target.grant, args.method, url.origin) };
        },
        run: (target, args, ctx) => runFetch(target.grant, args, ctx, env),
      }),
    },
  };
}

export const netKind = createNetKind();
