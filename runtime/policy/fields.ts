// Schema helpers every policy entry uses, the tools' own and each kind's: strict objects and lists of rights.
import { z } from "zod";

/** An object that refuses unknown fields, naming the ones that are valid there (readDocument names the field). */
export function strict<T extends z.ZodRawShape>(shape: T, what: string) {
  const valid = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? `in ${what}; valid fields: ${valid}` : undefined),
  });
}

/** A list of a kind's rights (at least one, none twice); `label` is what the policy calls them ("methods"). */
export function rightsOf(kind: string, rights: readonly string[], label = "rights") {
  const known = rights as readonly [string, ...string[]];
  return z
    .array(
      z.enum(known, {
        error: (issue) =>
          `${JSON.stringify(issue.input)} is not one of the ${kind} ${label}: ${known.join(", ")}`,
      }),
    )
    .min(1, `name at least one; valid ${label}: ${known.join(", ")}`)
    .refine((list) => new Set(list).size === list.length, "lists a right twice");
}
