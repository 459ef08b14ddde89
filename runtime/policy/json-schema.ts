// The policy format as JSON Schema, generated from the zod schema so editors check what Warden checks.
import { z } from "zod";
import { policySchema } from "./schema.ts";

/** Where the published schema lives in the repository (and what `$schema` in a policy can point at). */
export const POLICY_SCHEMA_FILE = "policies/policy.schema.json";

export function policyJsonSchema(): string {
  // "input": what a person writes (fields with defaults are optional), not what the parser returns.
  const schema = z.toJSONSchema(policySchema, { io: "input", unrepresentable: "throw" });
  return `${JSON.stringify({ ...schema, $id: "https://warden.dev/schemas/policy-v1.json" }, null, 2)}\n`;
}
