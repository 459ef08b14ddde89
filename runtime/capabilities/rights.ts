// Parsing of the rights list in a grant spec ("read,write"), shared by every kind.
import { WardenError } from "../errors.ts";

/** Parses "a,b" into known rights for a kind, or throws USAGE listing the valid ones. */
export function parseRights(kind: string, text: string, known: readonly string[]): string[] {
  const rights = text
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r !== "");
  if (rights.length === 0) {
    throw new WardenError("USAGE", `grant "${kind}:…" names no rights; valid rights: ${known.join(", ")}`);
  }
  for (const right of rights) {
    if (!known.includes(right)) {
      throw new WardenError(
        "USAGE",
        `unknown right "${right}" for ${kind}; valid rights: ${known.join(", ")}`,
      );
    }
  }
  return [...new Set(rights)].sort((a, b) => known.indexOf(a) - known.indexOf(b));
}
