// A model grant's spec ("model:openai:gpt-4o;totalTokens=100000"), its words, and how attenuation narrows it.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import type { KindEnv } from "../types.ts";
import type { PriceTable } from "./budget.ts";
import { CALL_PARAMS, PROVIDERS } from "./conversation.ts";
import {
  buildModelScope,
  DEFAULT_MAX_TOKENS,
  DEFAULT_TIMEOUT_MS,
  type ModelScope,
  RIGHTS,
  type ScopeFields,
} from "./scope.ts";

export type { ModelScope } from "./scope.ts";
export { DEFAULT_MAX_TOKENS, DEFAULT_TIMEOUT_MS, RIGHTS } from "./scope.ts";

const USAGE_LINE =
  "use model:scripted:./script.yaml, model:openai:MODEL or model:anthropic:MODEL, optionally followed by " +
  ";maxTokens=N;totalTokens=N;totalCost=DOLLARS;rpm=N;params=temperature,topP;timeoutMs=N;baseURL=URL" +
  ";key=secret:NAME;prices=MODEL:IN/OUT,...";

/** Spec option names, by the field of the grant each sets: what a problem found between fields is called. */
const OPTION_OF: Record<keyof ScopeFields, string> = {
  provider: "the provider",
  models: "the models",
  script: "the script",
  baseURL: "baseURL",
  keySecret: "key",
  maxTokens: "maxTokens",
  totalTokens: "totalTokens",
  totalCost: "totalCost",
  requestsPerMinute: "rpm",
  timeoutMs: "timeoutMs",
  params: "params",
  prices: "prices",
};

/** A base URL: http(s), and never credentials, which belong in the key's secret, not in text shown in specs. */
export const baseURLSchema = z
  .url({ protocol: /^https?$/ })
  .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), "a base URL carries no credentials");

/** A price: US dollars per million tokens, in and out. */
export const priceSchema = z.strictObject({
  input: z.number().min(0).max(1e6),
  output: z.number().min(0).max(1e6),
});

/** `gpt-x:0.15/0.6,llama3:8b:0/0`: a model name (which may hold ":"), then its prices in and out. */
function parsePrices(text: string, ctx: z.RefinementCtx): PriceTable {
  const table: Record<string, { input: number; output: number }> = {};
  for (const item of text.split(",")) {
    const colon = item.lastIndexOf(":");
    const [input, output, ...extra] = item.slice(colon + 1).split("/");
    const price = priceSchema.safeParse({ input: Number(input), output: Number(output) });
    if (colon <= 0 || extra.length > 0 || input === "" || output === "" || !price.success) {
      ctx.addIssue({
        code: "custom",
        message: `"${item}" is not MODEL:IN/OUT (US dollars per million tokens)`,
      });
      return z.NEVER;
    }
    table[item.slice(0, colon)] = price.data;
  }
  return table;
}

function formatPrices(prices: PriceTable): string {
  return Object.entries(prices)
    .map(([model, price]) => `${model}:${price.input}/${price.output}`)
    .join(",");
}

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
  baseURL: baseURLSchema.optional(),
  key: z
    .string()
    .regex(/^secret:/, "key=secret:NAME names the kernel secret that holds the key")
    .transform((text) => text.slice("secret:".length))
    .optional(),
  prices: z.string().transform(parsePrices).optional(),
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
  const scope = buildModelScope(
    {
      provider,
      ...(provider === "scripted" ? { script: target } : { models: target.split(",") }),
      baseURL: o.baseURL,
      keySecret: o.key,
      maxTokens: o.maxTokens,
      totalTokens: o.totalTokens,
      totalCost: o.totalCost,
      requestsPerMinute: o.rpm,
      timeoutMs: o.timeoutMs,
      params: o.params,
      prices: o.prices,
    },
    env.cwd,
  );
  if (Array.isArray(scope)) {
    throw bad(
      body,
      scope.map((p) => (p.field === "provider" ? p.why : `${OPTION_OF[p.field]}: ${p.why}`)).join("; "),
    );
  }
  return scope;
}

export function formatModelSpec(scope: ModelScope): string {
  const target = scope.script ? scope.script.path : scope.models.join(",");
  return [
    `model:${scope.provider}:${target}`,
    ...limitOptions(scope),
    ...(scope.baseURL ? [`baseURL=${scope.baseURL}`] : []),
    ...(scope.key ? [`key=secret:${scope.key.secret}`] : []),
    ...(scope.prices ? [`prices=${formatPrices(scope.prices)}`] : []),
  ].join(";");
}

/**
 * The grant as the audit log records a guest's attenuation: provider, models and limits, which the guest chose;
 * not the script's path, the base URL or the key's secret, which are the operator's and may name the host.
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
      ? `the scripted model ${scope.script?.path} (deterministic turns from a file, not a real model)`
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
