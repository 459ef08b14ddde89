// The model kind, whole: its host side, its policy entry (`model: "openai:gpt-4o;maxTokens=1000"`), its WIT
// name and its words.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { defineKind } from "../kind.ts";
import type { PriceTable } from "./budget.ts";
import { createModelKind } from "./index.ts";
import type { Env } from "./keys.ts";
import { parseModelSpec, RIGHTS } from "./spec.ts";

/** What the runtime gives the model kind (runtime/capabilities/index.ts's KindServices has these fields). */
export interface ModelServices {
  /** US dollars per million tokens, in and out, per model: what cost budgets are charged by. */
  modelPrices?: PriceTable | undefined;
  /** The kernel's environment: where provider keys and base URLs are read (keys.ts). Default: process.env. */
  env?: Env | undefined;
}

const entry = z
  .string()
  .min(1)
  .describe(
    "A model grant as the CLI writes it, without `model:`: scripted:./script.yaml, openai:MODEL or anthropic:MODEL, then ;OPTION=VALUE.",
  );

export const model = defineKind({
  name: "model",
  rights: RIGHTS,
  words: "call a language model",
  exampleScope: ":scripted:./script.yaml",
  wit: { interface: "model", resource: "Model" },
  policy: {
    schema: entry,
    grant(entry, env, problem) {
      try {
        return { rights: [...RIGHTS], scope: parseModelSpec(entry, env) };
      } catch (error) {
        if (!(error instanceof WardenError)) throw error;
        problem([], error.message);
        return undefined;
      }
    },
  },
  create: (services: ModelServices) => createModelKind({ prices: services.modelPrices, env: services.env }),
});
