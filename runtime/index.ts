// The package's public host API: `import { createRuntime } from "warden"`.
export { type AuditRecord, type AuditSink, JsonlAuditSink, MemoryAuditSink } from "./audit.ts";
export type { Grant } from "./capabilities/types.ts";
export type { ToolDescriptor } from "./descriptor.ts";
export { ERROR_CODES, type ErrorCode, WardenError } from "./errors.ts";
export { DEFAULT_LIMITS, type Limits } from "./isolates/types.ts";
export {
  type BuiltGrant,
  createRuntime,
  type GrantInput,
  type LoadOptions,
  Runtime,
  type RuntimeOptions,
} from "./runtime.ts";
export { createSecretStore, type SecretSource, type SecretStore } from "./secrets.ts";
export { type CallContext, Tool } from "./tool.ts";
