// A model grant: its spec ("model:openai:gpt-4o;totalTokens=100000"), its scope, and how attenuation narrows it.
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import type { KindEnv } from "../types.ts";
import { CALL_PARAMS, type CallParam, PROVIDERS, type ProviderName } from "./conversation.ts";

export interface ModelScope {
  provider: ProviderName;
  /** Models a caller may pick; the first is the default. The scripted model's is "scripted". */
  models: string[];
  /** The script file, resolved (scripted only), and as the spec wrote it (for messages: never a host path). */
  script?: { path: string; spec: string };
  /** Where requests go; unset: the provider's *_BASE_URL variable, else its public API. */
  baseURL?: string;
  maxTokensPerCall: number;
  totalTokens?: number;
  /** US dollars; needs a price for every model the grant allows. */
  totalCost?: number;
  requestsPerMinute?: number;
  /** The parameters a caller may set besides the conversation and tools. */
  params: CallParam[];
  /** Wall time for one call, retries included. */
  timeoutMs: number;
}

export const DEFAULT_MAX_TOKENS = 4096;
export const DEFAULT_TIMEOUT_MS = 120_000;
export const RIGHTS = ["complete"] as const;

const USAGE_LINE =
  "use model:scripted:./script.yaml, model:openai:MODEL or model:anthropic:MODEL, optionally followed by " +
  ";maxTokens=N;totalTokens=N;totalCost=DOLLARS;rpm=N;params=temperature,topP;timeoutMs=N;baseURL=URL";

const positive = z.coerce.number().int().positive().max(1e12);
const optionSchema = z.strictObject({
  maxTokens: positive.optional(),
  totalTokens: positive.optional(),
  totalCost: z.coerce.number().positive().max(1e9).optional(),
  rpm: positive.optional(),
  timeoutMs: positive.max(3_600_000).optional(),
  params: z
    .string()
    .transform((text) => (text === "" ? [] : text.split(",")))
    .pipe(z.array(z.enum(CALL_PARAMS)))
    .optional(),
  baseURL: z
    .url({ protocol: /^https?$/ })
    // A key goes through the kernel's key source (keys.ts), never in a URL that is shown in specs and hints.
    .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), "a base URL carries no credentials")
    .optional(),
});

function bad(body: string, why: string): WardenError {
  return new WardenError("USAGE", `bad model grant "model:${body}": ${why}; ${USAGE_LINE}`);
}

export function parseModelSpec(body: string, env: KindEnv): ModelScope {
  // "complete:" before the provider is the right written out, as other kinds' specs put their rights first.
  const [whole = "", ...optionParts] = body.split(";");
  const head = whole.startsWith(`${RIGHTS[0]}:`) ? whole.slice(RIGHTS[0].length + 1) : whole;
  const colon = head.indexOf(":");
  const provider = PROVIDERS.find((p) => p === head.slice(0, colon));
  if (colon < 0 || !provider) throw bad(body, "it names no provider");
  const target = head.slice(colon + 1);
  if (target === "") throw bad(body, `it names no ${provider === "scripted" ? "script file" : "model"}`);
  const options: Record<string, string> = {};
  for (const part of optionParts) {
    const eq = part.indexOf("=");
    if (eq < 0) throw bad(body, `"${part}" is not NAME=VALUE`);
    options[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const parsed = optionSchema.safeParse(options);
  if (!parsed.success) throw bad(body, z.prettifyError(parsed.error).replaceAll("\n", " "));
  const o = parsed.data;
  if (provider === "scripted" && o.baseURL) throw bad(body, "the scripted model has no base URL");
  const models = provider === "scripted" ? ["scripted"] : [...new Set(target.split(","))];
  if (models.some((m) => !/^[\w.:/@+-]{1,256}$/.test(m)))
    throw bad(body, "a model name has characters no provider uses");
  return {
    provider,
    models,
    ...(provider === "scripted"
      ? { script: { path: isAbsolute(target) ? target : resolve(env.cwd, target), spec: target } }
      : {}),
    ...(o.baseURL ? { baseURL: o.baseURL } : {}),
    maxTokensPerCall: o.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(o.totalTokens === undefined ? {} : { totalTokens: o.totalTokens }),
    ...(o.totalCost === undefined ? {} : { totalCost: o.totalCost }),
    ...(o.rpm === undefined ? {} : { requestsPerMinute: o.rpm }),
    params: o.params ?? [...CALL_PARAMS],
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

export function formatModelSpec(scope: ModelScope): string {
  const target = scope.script ? scope.script.spec : scope.models.join(",");
  return [
    `model:${scope.provider}:${target}`,
    ...limitOptions(scope),
    ...(scope.baseURL ? [`baseURL=${scope.baseURL}`] : []),
  ].join(";");
}

/**
 * The grant as the audit log records a guest's attenuation: provider, models and limits, which the guest chose;
 * not the script's path or the base URL, which are the operator's and may name the host.
 */
export function auditModelSpec(scope: ModelScope): string {
  const head =
    scope.provider === "scripted" ? "model:scripted" : `model:${scope.provider}:${scope.models.join(",")}`;
  return [head, ...limitOptions(scope)].join(";");
}

function limitOptions(scope: ModelScope): string[] {
  return [
    scope.maxTokensPerCall === DEFAULT_MAX_TOKENS ? "" : `maxTokens=${scope.maxTokensPerCall}`,
    scope.totalTokens === undefined ? "" : `totalTokens=${scope.totalTokens}`,
    scope.totalCost === undefined ? "" : `totalCost=${scope.totalCost}`,
    scope.requestsPerMinute === undefined ? "" : `rpm=${scope.requestsPerMinute}`,
    scope.params.length === CALL_PARAMS.length ? "" : `params=${scope.params.join(",")}`,
    scope.timeoutMs === DEFAULT_TIMEOUT_MS ? "" : `timeoutMs=${scope.timeoutMs}`,
  ].filter((o) => o !== "");
}

export function describeModel(scope: ModelScope): string {
  const who =
    scope.provider === "scripted"
      ? `the scripted model ${scope.script?.spec} (deterministic turns from a file, not a real model)`
      : `${scope.provider} model ${scope.models.join(" or ")}${scope.baseURL ? ` at ${scope.baseURL}` : ""}`;
  const limits = [
    `up to ${scope.maxTokensPerCall} tokens a call`,
    scope.totalTokens === undefined ? "" : `${scope.totalTokens} tokens in all`,
    scope.totalCost === undefined ? "" : `$${scope.totalCost} in all`,
    scope.requestsPerMinute === undefined ? "" : `${scope.requestsPerMinute} calls a minute`,
  ].filter((l) => l !== "");
  return `complete conversations with ${who}: ${limits.join(", ")}`;
}

export const narrowArgs = z.strictObject({
  models: z.array(z.string().max(256)).min(1).max(64).optional(),
  maxTokensPerCall: z.int().positive().optional(),
  totalTokens: z.int().positive().optional(),
  totalCost: z.number().positive().optional(),
  requestsPerMinute: z.int().positive().optional(),
  params: z.array(z.enum(CALL_PARAMS)).optional(),
});

/** A scope that allows nothing `parent` does not: a subset of models and params, each limit at most the parent's. */
export function narrowModelScope(parent: ModelScope, request: z.infer<typeof narrowArgs>): ModelScope {
  for (const m of request.models ?? []) {
    if (!parent.models.includes(m))
      throw new WardenError("CAPABILITY_DENIED", `cannot narrow to model "${m}": the parent handle lacks it`);
  }
  for (const p of request.params ?? []) {
    if (!parent.params.includes(p))
      throw new WardenError("CAPABILITY_DENIED", `cannot allow parameter "${p}": the parent handle does not`);
  }
  const least = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.min(a, b);
  const totalTokens = least(parent.totalTokens, request.totalTokens);
  const totalCost = least(parent.totalCost, request.totalCost);
  const requestsPerMinute = least(parent.requestsPerMinute, request.requestsPerMinute);
  return {
    ...parent,
    models: request.models ? [...new Set(request.models)] : parent.models,
    params: request.params ? [...new Set(request.params)] : parent.params,
    maxTokensPerCall: least(parent.maxTokensPerCall, request.maxTokensPerCall) ?? parent.maxTokensPerCall,
    ...(totalTokens === undefined ? {} : { totalTokens }),
    ...(totalCost === undefined ? {} : { totalCost }),
    ...(requestsPerMinute === undefined ? {} : { requestsPerMinute }),
  };
}
