// Writes policies/policy.schema.json from the policy's zod schema (npm run build:policy-schema).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { POLICY_SCHEMA_FILE, policyJsonSchema } from "../runtime/policy/json-schema.ts";

const target = fileURLToPath(new URL(`../${POLICY_SCHEMA_FILE}`, import.meta.url));
writeFileSync(target, policyJsonSchema());
process.stdout.write(`wrote ${POLICY_SCHEMA_FILE}\n`);
