// How deep JSON from a guest, a client or a user may nest, checked without recursion before anything walks it.
//
// The host walks such data recursively in many places (JSON.parse with a reviver, JSON.stringify, zod's
// z.json(), audit and MCP encoding), and each overflows the stack somewhere between ~1,800 and ~5,000
// levels, as a RangeError that would surface as INTERNAL. One stated bound, far below all of them and far
// above any real data, is checked first, iteratively, wherever such data enters.

/** Arrays and objects inside one another, at most. `[]` is depth 1, `[[1]]` depth 2. */
export const MAX_JSON_DEPTH = 256;

/**
 * The first bound JSON text passes, in one pass with no recursion: `"depth"` when arrays and objects nest
 * deeper than `depth`, `"values"` when it holds more than `values` values (containers, entries and elements,
 * counted by commas and opening brackets: an upper bound). Brackets and commas inside strings are skipped.
 * Text that is not JSON is not judged here: the parser that follows refuses it.
 */
export function jsonTextOver(
  text: string,
  bounds: { depth: number; values?: number },
): "depth" | "values" | undefined {
  const maxValues = bounds.values ?? Number.POSITIVE_INFINITY;
  let depth = 0;
  let values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote, stepping over escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > bounds.depth) return "depth";
      if (++values > maxValues) return "values";
    } else if (c === 0x2c) {
      if (++values > maxValues) return "values";
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return undefined;
}

/** Whether JSON text nests arrays and objects deeper than `max` (see `jsonTextOver`). */
export function jsonTextTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  return jsonTextOver(text, { depth: max }) === "depth";
}

/**
 * Whether a value nests arrays and objects deeper than `max` (a cycle counts as too deep). An explicit
 * stack, no recursion; byte arrays are leaves, as the wire encodes them.
 */
export function valueTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, above] = next;
    if (item === null || typeof item !== "object" || ArrayBuffer.isView(item)) continue;
    if (above + 1 > max) return true;
    for (const child of Object.values(item)) stack.push([child, above + 1]);
  }
  return false;
}
