// The `model` capability kind's host side: a granted, budgeted, audited model (OpenAI, Anthropic, or the scripted model),
// whose API key stays in the kernel. Its public modules: conversation.ts (the format), provider.ts (the adapter
// interface), scripted.ts, openai.ts, anthropic.ts, budget.ts.
import { WardenError } from "../../errors.ts";
import type { CapabilityKind, Grant, KindEnv, OpContext } from "../types.ts";
import { defineOperation } from "../types.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import { Budget, costOf, type PriceTable, type Reservation } from "./budget.ts";
import {
  CALL_PARAMS,
  type Completion,
  type CompletionRequest,
  completionRequestSchema,
} from "./conversation.ts";
import {
  type Env,
  type KeySources,
  keyVariable,
  providerBaseURL,
  providerKey,
  type SecretResolver,
} from "./keys.ts";
import { createOpenAIProvider } from "./openai.ts";
import type { ModelProvider } from "./provider.ts";
import { unpricedModels } from "./scope.ts";
import { createScriptedProvider, loadScript } from "./scripted.ts";
import {
  auditModelSpec,
  describeModel,
  formatModelSpec,
  type ModelScope,
  narrowArgs,
  narrowModelScope,
  parseModelSpec,
  RIGHTS,
} from "./spec.ts";

export type { PriceTable } from "./budget.ts";
export type { ModelScope } from "./spec.ts";

export interface ModelKindOptions {
  /** US dollars per million tokens, in and out, per model: what cost budgets are charged by. */
  prices?: PriceTable | undefined;
  /** Where keys and base URLs are read from (keys.ts). Default: the kernel's process.env. */
  env?: Env | undefined;
  /** The kernel's secrets, for grants that name the secret holding their key (`key=secret:NAME`). */
  secrets?: SecretResolver | undefined;
}

/** What a model handle holds on the host: its budget (drawing on its parent's) and its provider. */
export interface ModelResource {
  budget: Budget;
  provider: ModelProvider;
}

/** About four bytes of JSON a token: what a request's input is reserved at before the provider counts it. */
function estimateInputTokens(request: CompletionRequest): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify([request.messages, request.tools ?? []])) / 4);
}

async function providerFor(scope: ModelScope, sources: KeySources): Promise<ModelProvider> {
  switch (scope.provider) {
    case "scripted":
      return createScriptedProvider(await loadScript(scope.script!.path));
    case "openai":
    case "anthropic": {
      const options = {
        apiKey: await providerKey(scope.provider, scope.key?.secret, sources),
        keyVariable: keyVariable(scope.provider),
        baseURL: scope.baseURL ?? providerBaseURL(scope.provider, sources.env),
      };
      return scope.provider === "openai" ? createOpenAIProvider(options) : createAnthropicProvider(options);
    }
  }
}

export function createModelKind(options: ModelKindOptions = {}): CapabilityKind<ModelScope, ModelResource> {
  const runtimePrices = options.prices ?? {};
  const sources: KeySources = { env: options.env ?? process.env, secrets: options.secrets };
  // A grant's own prices (a policy's table) over the runtime's.
  const pricesOf = (scope: ModelScope): PriceTable =>
    scope.prices ? { ...runtimePrices, ...scope.prices } : runtimePrices;

  async function complete(
    { grant, resource }: { grant: Grant<ModelScope>; resource: ModelResource },
    request: CompletionRequest,
    ctx: OpContext,
  ): Promise<Completion> {
    const scope = grant.scope;
    const prices = pricesOf(scope);
    const model = request.model ?? scope.models[0]!;
    const maxTokens = request.maxTokens ?? scope.maxTokensPerCall;
    if (maxTokens > scope.maxTokensPerCall) {
      throw new WardenError(
        "LIMIT_EXCEEDED",
        `maxTokens ${maxTokens} is over the model handle's maxTokensPerCall budget (${scope.maxTokensPerCall})`,
      );
    }
    const inputTokens = estimateInputTokens(request);
    const held = resource.budget.reserve({
      tokens: inputTokens + maxTokens,
      cost: costOf(prices, model, { inputTokens, outputTokens: maxTokens }),
    });
    const started = Date.now();
    let used: Reservation = { tokens: 0, cost: 0 };
    let completion: Completion | undefined;
    try {
      completion = await resource.provider.complete(
        { ...request, model, maxTokens },
        {
          signal: ctx.signal,
          deadline: started + scope.timeoutMs,
          agent: ctx.owner ?? ctx.handleName,
          session: ctx.run ?? "",
        },
      );
      const { usage } = completion;
      used = { tokens: usage.inputTokens + usage.outputTokens, cost: costOf(prices, model, usage) };
      return completion;
    } finally {
      // A failed call reported no usage, so it is charged nothing; a successful one exactly what it used.
      resource.budget.settle(held, used);
      ctx.report?.({
        provider: scope.provider,
        // The provider names the model it used: untrusted text, so bounded before it reaches the audit.
        model: (completion?.model ?? model).slice(0, 256),
        inputTokens: completion?.usage.inputTokens ?? 0,
        outputTokens: completion?.usage.outputTokens ?? 0,
        cost: used.cost,
        durationMs: Date.now() - started,
        ...(completion ? { stopReason: completion.stopReason } : {}),
      });
    }
  }

  /** A cost ceiling on a model without a price could not be enforced: refused, not ignored. */
  function refuseUnpriced(grant: Grant<ModelScope>): void {
    const unpriced = unpricedModels(grant.scope, runtimePrices);
    if (unpriced.length === 0) return;
    throw new WardenError(
      "USAGE",
      `grant "${formatModelSpec(grant.scope)}" sets totalCost, but ${unpriced.join(", ")} has no price; set one in the grant's prices or the runtime's modelPrices`,
    );
  }

  return {
    kind: "model",
    rights: RIGHTS,
    defaultRights: RIGHTS,
    parseSpec(body: string, kindEnv: KindEnv): Grant<ModelScope> {
      const grant = { rights: [...RIGHTS], scope: parseModelSpec(body, kindEnv) };
      refuseUnpriced(grant);
      return grant;
    },
    formatSpec: (grant) => formatModelSpec(grant.scope),
    auditForm: (grant) => auditModelSpec(grant.scope),
    describe: (grant) => describeModel(grant.scope),
    async open(grant, parent) {
      // Again here: a grant built without parseSpec (from a policy entry, or by host code) is opened here.
      if (!parent) refuseUnpriced(grant);
      const { totalTokens, totalCost, requestsPerMinute } = grant.scope;
      const budget = new Budget({ totalTokens, totalCost, requestsPerMinute }, parent?.resource.budget);
      // A derived handle shares its parent's provider, and so a scripted session's place in its script.
      return { budget, provider: parent?.resource.provider ?? (await providerFor(grant.scope, sources)) };
    },
    async close() {},
    narrowArgs,
    async narrow(parent, request) {
      return narrowModelScope(parent.grant.scope, narrowArgs.parse(request));
    },
    ops: {
      complete: defineOperation<ModelScope, ModelResource, CompletionRequest>({
        right: "complete",
        args: completionRequestSchema,
        check({ grant }, args) {
          const scope = grant.scope;
          for (const p of CALL_PARAMS) {
            if (args[p] !== undefined && !scope.params.includes(p))
              return `this model handle does not let its holder set "${p}"; it allows: ${scope.params.join(", ") || "none"}`;
          }
          if (args.model !== undefined && !scope.models.includes(args.model))
            return `model "${args.model}" is not one of this handle's models: ${scope.models.join(", ")}`;
          return undefined;
        },
        run: complete,
        // Counts only: a conversation is content, and content never reaches the audit log.
        summary: (a) =>
          `complete ${a.model ?? "(default model)"}: ${a.messages.length} messages, ${a.tools?.length ?? 0} tools`,
      }),
    },
  };
}
