// The registry of capability kinds: the one list the runtime, policy, explain, descriptor and wasm code read.
// Adding a kind: a folder runtime/capabilities/<kind>/ with its kind.ts, a line here, and a line in guest.ts.
import type { AgentSessions } from "./agent-only.ts";
import { clock } from "./clock/kind.ts";
import { conversation } from "./conversation/kind.ts";
import { fs } from "./fs/kind.ts";
import type { Kind } from "./kind.ts";
import { kv } from "./kv/kind.ts";
import type { KvStore } from "./kv/store.ts";
import type { LogSink } from "./log/index.ts";
import { log } from "./log/kind.ts";
import type { PriceTable } from "./model/budget.ts";
import type { Env, SecretResolver } from "./model/keys.ts";
import { model } from "./model/kind.ts";
import type { LookupFn } from "./net/fetch.ts";
import { net } from "./net/kind.ts";
import { tool } from "./tool/kind.ts";
import type { CapabilityKind } from "./types.ts";

/** What the runtime gives the kinds that need host services; each kind's create() takes the part it reads. */
export interface KindServices {
  /** DNS resolver for net handles; injectable for tests. */
  lookup?: LookupFn | undefined;
  /** Where kv stores live. */
  kvStore: KvStore;
  /** Where tools' log lines go. */
  log: LogSink;
  /** Model prices, US dollars per million tokens in and out, per model: what cost budgets charge. */
  modelPrices?: PriceTable | undefined;
  /** The kernel's environment, where default provider keys are read; default process.env. */
  env?: Env | undefined;
  /** The sessions agent-only kinds (conversation, tool) reach; none without agents. */
  agents?: AgentSessions | undefined;
  /** The kernel's secrets: what a model grant's `key: { secret }` names. None yet: the secrets store lands separately. */
  secrets?: SecretResolver | undefined;
}

/** Every kind, in the order policies, schemas and explanations list them. */
export const KINDS: readonly Kind<KindServices>[] = [fs, net, kv, clock, log, model, conversation, tool];

/** The kinds a grant spec or a policy may name: all but the agent-only ones. */
export const GRANTABLE_KINDS: readonly Kind<KindServices>[] = KINDS.filter((kind) => !kind.agentOnly);

/** The kind named `name` (a spec prefix, a declared `type`, a policy field), if there is one. */
export function kindNamed(name: string): Kind<KindServices> | undefined {
  return KINDS.find((kind) => kind.name === name);
}

/** Every kind's host side, for one runtime. */
export function createKinds(services: KindServices): CapabilityKind[] {
  return KINDS.map((kind) => kind.create(services));
}
