// Test helper: the capability kinds and backends policy compilation sees, without a runtime.
import { createKinds } from "../../../runtime/capabilities/index.ts";
import { MemoryKvStore } from "../../../runtime/capabilities/kv/store.ts";
import type { PolicyEnv } from "../../../runtime/policy/compile.ts";

export function testEnv(): PolicyEnv {
  const kinds = createKinds({ kvStore: new MemoryKvStore(), log: () => undefined });
  return { kindOf: (name) => kinds.find((k) => k.kind === name), hasBackend: (name) => name === "v8" };
}
