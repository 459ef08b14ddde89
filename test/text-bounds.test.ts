// Bounds on guest-derived text: clipping keeps ordinary text as it is, and zod errors are formatted from
// clipped parts, never from the whole input.
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { jsonTextOver, MAX_JSON_DEPTH } from "../runtime/protocol/depth.ts";
import { boundedIssues, clip, formatIssues, TEXT_BOUNDS } from "../runtime/text-bounds.ts";

/** Whether JSON text holds at most `max` values, as the channel measures it. */
const withinValues = (json: string, max: number) =>
  jsonTextOver(json, { depth: MAX_JSON_DEPTH, values: max }) === undefined;

describe("clip", () => {
  test("text that fits is unchanged", () => expect(clip("short", 10)).toBe("short"));
  test("longer text is cut with a marker saying how much", () =>
    expect(clip("abcdefghij", 4)).toBe("abcd…[cut 6 chars]"));
  test("never half of a surrogate pair", () => expect(clip("ab😀cd", 3)).toBe("ab…[cut 4 chars]"));
});

describe("formatIssues", () => {
  const schema = z.strictObject({ a: z.string(), nested: z.strictObject({ b: z.number() }).optional() });

  test("is zod's prettifyError for ordinary errors", () => {
    for (const input of [{ a: 1 }, { a: "x", extra: 1, more: 2 }, { a: "x", nested: { b: "no", c: 1 } }, 5]) {
      const plain = schema.safeParse(input);
      const bounded = schema.safeParse(input, { error: boundedIssues });
      expect(plain.success).toBe(false);
      if (plain.success || bounded.success) continue;
      expect(formatIssues(bounded.error)).toBe(z.prettifyError(plain.error));
    }
  });

  test("a megabyte key is clipped in the message", () => {
    const key = "k".repeat(1_000_000);
    const parsed = schema.safeParse({ a: "x", [key]: 1 }, { error: boundedIssues });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const text = formatIssues(parsed.error);
    expect(text.length).toBeLessThan(1000);
    expect(text).toMatch(/Unrecognized key: "k+…\[cut 999744 chars\]"/);
  });

  test("many keys, many issues and deep paths stay short", () => {
    const keys = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`key${i}`, i]));
    const many = schema.safeParse({ a: "x", ...keys }, { error: boundedIssues });
    if (many.success) throw new Error("parsed");
    expect(formatIssues(many.error)).toMatch(/"key19", and 9980 more$/);

    const rights = z.array(z.string()).safeParse(new Array(100_000).fill(1), { error: boundedIssues });
    if (rights.success) throw new Error("parsed");
    const text = formatIssues(rights.error);
    expect(text.split("\n").length).toBe(2 * TEXT_BOUNDS.issues + 1);
    expect(text).toMatch(/and 99980 more problems$/);

    type Deep = { d?: Deep; x?: number };
    const deep: z.ZodType<Deep> = z.lazy(() =>
      z.strictObject({ d: deep.optional(), x: z.number().optional() }),
    );
    let value: Record<string, unknown> = { x: "no" };
    for (let i = 0; i < 500; i++) value = { d: value };
    const nested = deep.safeParse(value, { error: boundedIssues });
    if (nested.success) throw new Error("parsed");
    expect(formatIssues(nested.error)).toMatch(/→ at d\.d\..*\[…469 more\]\.d.*\.x$/);
  });
});

describe("withinValues", () => {
  test("counts containers, entries and elements, not commas or brackets inside strings", () => {
    expect(withinValues('{"a":[1,2,3],"b":{}}', 7)).toBe(true);
    expect(withinValues('{"a":[1,2,3],"b":{}}', 6)).toBe(false);
    expect(withinValues(JSON.stringify({ text: ",[{".repeat(1000), quote: 'say "a,b"' }), 3)).toBe(true);
  });
});
