// The model kind, whole: its host side, its policy entry (the structured form, or a spec's text), its WIT name
// and its words.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { strict } from "../../policy/fields.ts";
import type { FieldPath, ReportProblem } from "../kind.ts";
import { defineKind } from "../kind.ts";
import type { KindEnv } from "../types.ts";
import type { PriceTable } from "./budget.ts";
import { CALL_PARAMS, PROVIDERS } from "./conversation.ts";
import { createModelKind } from "./index.ts";
import type { Env, SecretResolver } from "./keys.ts";
import { buildModelScope, MODEL_NAME, RIGHTS, type ScopeFields, SECRET_NAME } from "./scope.ts";
import { baseURLSchema, parseModelSpec, priceSchema } from "./spec.ts";

/** What the runtime gives the model kind (runtime/capabilities/index.ts's KindServices has these fields). */
export interface ModelServices {
  /** US dollars per million tokens, in and out, per model: what cost budgets are charged by. */
  modelPrices?: PriceTable | undefined;
  /** The kernel's environment: where provider keys and base URLs are read (keys.ts). Default: process.env. */
  env?: Env | undefined;
  /** The kernel's secrets: a grant may name the one that holds its key. */
  secrets?: SecretResolver | undefined;
}

const count = z.int().positive().max(1e12);

const limits = strict(
  {
    maxTokens: count.optional().describe("Most tokens one call may ask for (default 4096)."),
    totalTokens: count
      .optional()
      .describe("Tokens in and out over the handle's life, its derived handles' too."),
    totalCost: z
      .number()
      .positive()
      .max(1e9)
      .optional()
      .describe("US dollars over the handle's life; every model needs a price (prices, or the runtime's)."),
    requestsPerMinute: count.optional(),
    timeoutMs: z
      .int()
      .min(1)
      .max(3_600_000)
      .optional()
      .describe("One call, retries included (default 120000)."),
  },
  "model limits",
);

const structured = strict(
  {
    provider: z
      .enum(PROVIDERS, { error: () => `valid providers: ${PROVIDERS.join(", ")}` })
      .describe("openai, anthropic, or scripted (deterministic turns from a file)."),
    models: z
      .array(z.string().regex(MODEL_NAME, "a model name has characters no provider uses"))
      .min(1)
      .max(64)
      .optional()
      .describe("Models a caller may pick; the first is the default. Not for scripted."),
    script: z.string().min(1).optional().describe("The scripted model's file, relative to the policy."),
    baseURL: baseURLSchema
      .optional()
      .describe("Any OpenAI- or Anthropic-compatible server; default the provider's."),
    key: strict(
      {
        secret: z.string().regex(SECRET_NAME, "a secret name is a letter, then letters, digits, '_' or '-'"),
      },
      "a model key",
    )
      .optional()
      .describe("The kernel secret holding the API key; default OPENAI_API_KEY or ANTHROPIC_API_KEY."),
    limits: limits.optional(),
    params: z
      .array(z.enum(CALL_PARAMS))
      .optional()
      .describe("Parameters a caller may set (default all of model, maxTokens, temperature, topP, stop)."),
    prices: z
      .record(z.string(), priceSchema)
      .optional()
      .describe("US dollars per million tokens, in and out, per model: what totalCost charges."),
  },
  "a model grant",
);

const entry = z.union(
  [
    structured,
    z
      .string()
      .min(1)
      .describe("A grant as the CLI writes it, without `model:` (openai:gpt-4o;maxTokens=512)."),
  ],
  {
    // Zod reports both forms' failures as one "Invalid input": say what is wrong with the form that was written.
    error: (issue) => {
      if (issue.code !== "invalid_union" || typeof issue.input !== "object") return undefined;
      const first = issue.errors[0]?.[0];
      return first ? `${first.path.join(".")}${first.path.length ? ": " : ""}${first.message}` : undefined;
    },
  },
);

/** Where a rule between fields points in the structured entry. */
const FIELD_PATH: Record<keyof ScopeFields, FieldPath> = {
  provider: ["provider"],
  models: ["models"],
  script: ["script"],
  baseURL: ["baseURL"],
  keySecret: ["key", "secret"],
  maxTokens: ["limits", "maxTokens"],
  totalTokens: ["limits", "totalTokens"],
  totalCost: ["limits", "totalCost"],
  requestsPerMinute: ["limits", "requestsPerMinute"],
  timeoutMs: ["limits", "timeoutMs"],
  params: ["params"],
  prices: ["prices"],
};

function policyGrant(value: z.output<typeof entry>, env: KindEnv, problem: ReportProblem) {
  if (typeof value === "string") {
    try {
      return { rights: [...RIGHTS], scope: parseModelSpec(value, env) };
    } catch (error) {
      if (!(error instanceof WardenError)) throw error;
      problem([], error.message);
      return undefined;
    }
  }
  const scope = buildModelScope(
    {
      provider: value.provider,
      models: value.models,
      script: value.script,
      baseURL: value.baseURL,
      keySecret: value.key?.secret,
      ...value.limits,
      params: value.params,
      prices: value.prices,
    },
    env.cwd,
  );
  if (!Array.isArray(scope)) return { rights: [...RIGHTS], scope };
  for (const { field, why } of scope) problem(FIELD_PATH[field], why);
  return undefined;
}

export const model = defineKind({
  name: "model",
  rights: RIGHTS,
  words: "call a language model",
  exampleScope: ":scripted:./script.yaml",
  wit: { interface: "model", resource: "Model" },
  policy: { schema: entry, grant: policyGrant },
  create: (services: ModelServices) =>
    createModelKind({ prices: services.modelPrices, env: services.env, secrets: services.secrets }),
});
