// Test helper: the capability kinds and backends policy compilation sees, without a runtime.
import { createClockKind } from "../../../runtime/capabilities/clock/index.ts";
import { fsKind } from "../../../runtime/capabilities/fs/index.ts";
import { createKvKind } from "../../../runtime/capabilities/kv/index.ts";
import { MemoryKvStore } from "../../../runtime/capabilities/kv/store.ts";
import { createLogKind } from "../../../runtime/capabilities/log/index.ts";
import { createNetKind } from "../../../runtime/capabilities/net/index.ts";
import type { CapabilityKind } from "../../../runtime/capabilities/types.ts";
import type { PolicyEnv } from "../../../runtime/policy/compile.ts";

export function testEnv(): PolicyEnv {
  const kinds = [
    fsKind,
    createNetKind(),
    createKvKind(new MemoryKvStore()),
    createClockKind(),
    createLogKind(() => undefined),
  ] as CapabilityKind[];
  return { kindOf: (name) => kinds.find((k) => k.kind === name), hasBackend: (name) => name === "v8" };
}
