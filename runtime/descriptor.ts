// The host's schema for what a guest says about its tool, and the check of its declared capabilities against grants.
import { z } from "zod";
import { kindNamed } from "./capabilities/index.ts";
import type { CapabilityKind, Grant } from "./capabilities/types.ts";
import { WardenError } from "./errors.ts";

const jsonSchema = z.record(z.string(), z.json());

export const descriptorSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/),
  description: z.string().min(1).max(10_000),
  inputSchema: jsonSchema,
  outputSchema: jsonSchema,
  /** Running it twice has the effect of running it once: an agent's resume may run it again (runtime/agents/). */
  idempotent: z.boolean().optional(),
  /** Set by defineAgent: the module's own instructions and tools, used where the agent's spec gives none. */
  agent: z
    .strictObject({
      instructions: z.string().max(100_000).optional(),
      tools: z.array(z.string().max(64)).max(128).optional(),
    })
    .optional(),
  capabilities: z.record(
    z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/),
    z.strictObject({ type: z.string(), rights: z.array(z.string()).nullable() }),
  ),
});

/** A tool's definition as the host knows it: its name, words, schemas and declared capabilities. */
export type ToolDescriptor = z.infer<typeof descriptorSchema>;

export function parseDescriptor(raw: unknown): ToolDescriptor {
  const parsed = descriptorSchema.safeParse(raw);
  if (!parsed.success) {
    throw new WardenError(
      "LOAD_ERROR",
      `the tool's definition is not valid: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

export interface GrantRequest {
  name: string;
  kind: CapabilityKind;
  grant: Grant<unknown>;
}

/**
 * Matches grants to declared capabilities. Every declared capability needs a grant of its type; a grant the
 * tool did not declare is refused; a grant's rights are cut down to those declared (least privilege).
 */
export function matchGrants(
  tool: ToolDescriptor,
  grants: GrantRequest[],
  kindOf: (name: string) => CapabilityKind | undefined,
): GrantRequest[] {
  const declared = tool.capabilities;
  for (const [name, cap] of Object.entries(declared)) {
    const kind = kindOf(cap.type);
    if (!kind) throw new WardenError("LOAD_ERROR", `capability "${name}" has unknown type "${cap.type}"`);
    for (const right of cap.rights ?? []) {
      if (!kind.rights.includes(right)) {
        throw new WardenError(
          "LOAD_ERROR",
          `capability "${name}" declares unknown ${cap.type} right "${right}"; valid: ${kind.rights.join(", ")}`,
        );
      }
    }
  }
  const byName = new Map(grants.map((g) => [g.name, g]));
  for (const g of grants) {
    if (!Object.hasOwn(declared, g.name)) {
      const names = Object.keys(declared);
      throw new WardenError(
        "USAGE",
        `tool "${tool.name}" does not declare a capability named "${g.name}"; ${names.length ? `it declares: ${names.join(", ")}` : "it declares none"}`,
      );
    }
  }
  const matched: GrantRequest[] = [];
  for (const [name, cap] of Object.entries(declared)) {
    const g = byName.get(name);
    const example = `${cap.type}${cap.rights ? `:${cap.rights.join(",")}` : ""}${kindNamed(cap.type)?.exampleScope ?? ""}`;
    if (!g) {
      throw new WardenError(
        "CAPABILITY_DENIED",
        `tool "${tool.name}" needs capability "${name}" (${cap.type}${cap.rights ? `: ${cap.rights.join(", ")}` : ""}) and no grant was given; grant it with --grant ${name}=${example}`,
        { handle: name },
      );
    }
    if (g.kind.kind !== cap.type) {
      throw new WardenError(
        "USAGE",
        `capability "${name}" is of type ${cap.type}, but the grant given is ${g.kind.kind}; use --grant ${name}=${example}`,
      );
    }
    const rights = cap.rights ? g.grant.rights.filter((r) => cap.rights!.includes(r)) : [...g.grant.rights];
    matched.push({ ...g, grant: { ...g.grant, rights } });
  }
  return matched;
}
