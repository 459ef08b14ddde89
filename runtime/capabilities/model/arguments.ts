// A tool call's arguments as a model sent them: JSON text that must be an object, or the call is MODEL_ERROR.
import { z } from "zod";
import { modelError } from "./failures.ts";

const jsonObject = z.record(z.string(), z.json());

export function parseArguments(
  provider: string,
  text: string,
): Record<string, z.infer<ReturnType<typeof z.json>>> {
  let value: unknown;
  try {
    // Models send "" for a call without arguments.
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw modelError(`${provider} sent tool call arguments that are not JSON`);
  }
  const parsed = jsonObject.safeParse(value);
  if (!parsed.success) throw modelError(`${provider} sent tool call arguments that are not a JSON object`);
  return parsed.data;
}

/** Checks an argument object that arrived already parsed (Anthropic's tool_use input). */
export function checkArguments(
  provider: string,
  value: unknown,
): Record<string, z.infer<ReturnType<typeof z.json>>> {
  const parsed = jsonObject.safeParse(value);
  if (!parsed.success) throw modelError(`${provider} sent tool call arguments that are not a JSON object`);
  return parsed.data;
}
