// What a capability kind is, whole: the contract each runtime/capabilities/<kind>/kind.ts fills in with defineKind.
import type { z } from "zod";
import type { CapabilityKind, Grant, KindEnv } from "./types.ts";

/** Where a policy entry's field is, relative to the entry (`["origins", 2]`). */
export type FieldPath = readonly (string | number)[];

/** Reports a problem with one field of a policy entry; the policy compiler adds file, line and the path above it. */
export type ReportProblem = (field: FieldPath, message: string) => void;

/** A kind's policy form: the entry a policy file writes (`{ net: { origins, methods } }`) and its grant. */
export interface PolicyForm<Scope, Entry> {
  /** A strict schema for the entry (runtime/policy/fields.ts has the helpers), read into the JSON Schema too. */
  readonly schema: z.ZodType<Entry>;
  /**
   * The grant an entry stands for, built directly (no spec text in between). `env.cwd` is the policy file's
   * directory. A problem is reported against the field that has it, in the policy's words; then undefined.
   */
  grant(entry: Entry, env: KindEnv, problem: ReportProblem): Grant<Scope> | undefined;
}

/** Where a kind's handle lives in a WebAssembly component: `warden:tool/<interface>`, resource `<resource>`. */
export interface WitName {
  readonly interface: string;
  readonly resource: string;
}

/** Everything a kind is, typed by its own scope, resource, policy entry and the runtime services it needs. */
export interface KindDefinition<Scope, Resource, Entry, Services> {
  /** The spec prefix, the `type` tools declare, the policy field and the WIT interface's default name. */
  readonly name: string;
  /** Every right this kind knows, in a stable order (the host kind's `rights` are these). */
  readonly rights: readonly string[];
  /** What a tool without such a handle cannot do, in `policy explain`'s words ("reach the network"). */
  readonly words: string;
  /** What follows the rights in the grant a missing-grant error suggests (":DIR" for fs), or "". */
  readonly exampleScope: string;
  readonly policy: PolicyForm<Scope, Entry>;
  /** Absent for a kind a WebAssembly component cannot import (handles given only to JS agent programs). */
  readonly wit?: WitName;
  /**
   * Handles of this kind are given by the session runner to an agent's sandbox only (conversation, tool): no
   * grant spec, no policy grant, no `policy explain` line. Its policy form only refuses.
   */
  readonly agentOnly?: boolean;
  /** The host side, for one runtime: its operations, spec syntax, resources and audit form. */
  create(services: Services): CapabilityKind<Scope, Resource>;
}

/** A kind with its types closed over, so kinds of different types sit in one list (runtime/capabilities/index.ts). */
export interface Kind<Services> {
  readonly name: string;
  readonly rights: readonly string[];
  readonly words: string;
  readonly exampleScope: string;
  readonly wit: WitName | undefined;
  readonly agentOnly: boolean;
  /** The policy entry's schema, for the policy file's schema. */
  readonly policySchema: z.ZodType;
  /** Parses an entry with the kind's own schema and builds its grant; undefined after reporting problems. */
  policyGrant(entry: unknown, env: KindEnv, problem: ReportProblem): Grant<unknown> | undefined;
  create(services: Services): CapabilityKind;
}

export function defineKind<Scope, Resource, Entry, Services>(
  definition: KindDefinition<Scope, Resource, Entry, Services>,
): Kind<Services> {
  const { policy } = definition;
  return {
    name: definition.name,
    rights: definition.rights,
    words: definition.words,
    exampleScope: definition.exampleScope,
    wit: definition.wit,
    agentOnly: definition.agentOnly === true,
    policySchema: policy.schema,
    policyGrant(entry, env, problem) {
      // Parsed again by the kind's own schema, which is what types it: the policy schema already accepted it.
      const parsed = policy.schema.safeParse(entry);
      if (!parsed.success) {
        problem([], `not a valid ${definition.name} grant`);
        return undefined;
      }
      return policy.grant(parsed.data, env, problem);
    },
    create: (services) => definition.create(services),
  };
}
