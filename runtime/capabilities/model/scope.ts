// What a model grant allows (its scope), built from the fields a spec or a policy entry gives, with the rules
// that hold between fields checked once here for both forms.
import { isAbsolute, resolve } from "node:path";
import type { PriceTable } from "./budget.ts";
import { CALL_PARAMS, type CallParam, type ProviderName } from "./conversation.ts";

export interface ModelScope {
  provider: ProviderName;
  /** Models a caller may pick; the first is the default. The scripted model's is "scripted". */
  models: string[];
  /** The script file, resolved (scripted only). Messages a guest may read name it by base name only. */
  script?: { path: string };
  /** Where requests go; unset: the provider's *_BASE_URL variable, else its public API. */
  baseURL?: string;
  /** The kernel secret that holds the key; unset: the provider's *_API_KEY variable (keys.ts). */
  key?: { secret: string };
  maxTokensPerCall: number;
  totalTokens?: number;
  /** US dollars; needs a price for every model the grant allows. */
  totalCost?: number;
  requestsPerMinute?: number;
  /** The parameters a caller may set besides the conversation and tools. */
  params: CallParam[];
  /** Wall time for one call, retries included. */
  timeoutMs: number;
  /** Prices this grant sets, over the runtime's `modelPrices`. */
  prices?: PriceTable;
}

export const DEFAULT_MAX_TOKENS = 4096;
export const DEFAULT_TIMEOUT_MS = 120_000;
export const RIGHTS = ["complete"] as const;

/** Names of models as providers write them (`gpt-4o`, `llama3:8b`, `meta-llama/Llama-3-8B`). */
export const MODEL_NAME = /^[\w.:/@+-]{1,256}$/;
/** Names of the kernel's secrets (runtime/secrets.ts on the secrets branch uses the same rule). */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** A grant's fields, already parsed one by one: what a spec's text and a policy entry both come to. */
export interface ScopeFields {
  provider: ProviderName;
  models?: string[] | undefined;
  script?: string | undefined;
  baseURL?: string | undefined;
  keySecret?: string | undefined;
  maxTokens?: number | undefined;
  totalTokens?: number | undefined;
  totalCost?: number | undefined;
  requestsPerMinute?: number | undefined;
  timeoutMs?: number | undefined;
  params?: readonly CallParam[] | undefined;
  prices?: PriceTable | undefined;
}

/** A rule between fields that a grant breaks: the field to point at, and why, in the grant's words. */
export interface ScopeProblem {
  field: keyof ScopeFields;
  why: string;
}

/** The scope `fields` grant, or the rules they break. Relative script paths resolve against `cwd`. */
export function buildModelScope(fields: ScopeFields, cwd: string): ModelScope | ScopeProblem[] {
  const problems: ScopeProblem[] = [];
  const scripted = fields.provider === "scripted";
  if (scripted) {
    if (!fields.script) problems.push({ field: "script", why: "the scripted model needs a script file" });
    if (fields.models) problems.push({ field: "models", why: "the scripted model has no model names" });
    if (fields.baseURL) problems.push({ field: "baseURL", why: "the scripted model has no base URL" });
    if (fields.keySecret) problems.push({ field: "keySecret", why: "the scripted model needs no key" });
  } else {
    if (fields.script)
      problems.push({ field: "script", why: `${fields.provider} takes models, not a script` });
    if (!fields.models?.length)
      problems.push({ field: "models", why: `name at least one ${fields.provider} model` });
  }
  const models = scripted ? ["scripted"] : [...new Set(fields.models ?? [])];
  if (models.some((m) => !MODEL_NAME.test(m)))
    problems.push({ field: "models", why: "a model name has characters no provider uses" });
  if (fields.keySecret !== undefined && !SECRET_NAME.test(fields.keySecret))
    problems.push({ field: "keySecret", why: `"${fields.keySecret}" is not a secret name` });
  for (const priced of Object.keys(fields.prices ?? {})) {
    // A price no call can be charged is a typo more likely than a wish: refused, not ignored.
    if (!models.includes(priced))
      problems.push({
        field: "prices",
        why: `"${priced}" is not one of the grant's models: ${models.join(", ")}`,
      });
  }
  if (problems.length > 0) return problems;
  const script = fields.script;
  return {
    provider: fields.provider,
    models,
    ...(script ? { script: { path: isAbsolute(script) ? script : resolve(cwd, script) } } : {}),
    ...(fields.baseURL ? { baseURL: fields.baseURL } : {}),
    ...(fields.keySecret ? { key: { secret: fields.keySecret } } : {}),
    maxTokensPerCall: fields.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(fields.totalTokens === undefined ? {} : { totalTokens: fields.totalTokens }),
    ...(fields.totalCost === undefined ? {} : { totalCost: fields.totalCost }),
    ...(fields.requestsPerMinute === undefined ? {} : { requestsPerMinute: fields.requestsPerMinute }),
    params: fields.params ? [...new Set(fields.params)] : [...CALL_PARAMS],
    timeoutMs: fields.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(fields.prices && Object.keys(fields.prices).length > 0 ? { prices: fields.prices } : {}),
  };
}

/** Models a cost ceiling covers that have no price in the grant or in `runtimePrices`: such a ceiling cannot hold. */
export function unpricedModels(scope: ModelScope, runtimePrices: PriceTable): string[] {
  if (scope.totalCost === undefined || scope.provider === "scripted") return [];
  const priced = (m: string) => Object.hasOwn(scope.prices ?? {}, m) || Object.hasOwn(runtimePrices, m);
  return scope.models.filter((m) => !priced(m));
}
