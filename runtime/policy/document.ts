// Reading a YAML or JSON document for a schema: every syntax and schema problem, each at its line.
import { readFileSync } from "node:fs";
import { type Document, isPair, isScalar, LineCounter, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { WardenError } from "../errors.ts";
import { Locator, type Problem } from "./problems.ts";

export interface ReadDocument<T> {
  /** The file's text, as read. */
  text: string;
  locator: Locator;
  /** Present when the document parsed and matched the schema. */
  data: T | undefined;
  /** The document as plain data when it parsed, matching the schema or not. */
  raw: unknown;
  problems: Problem[];
}

/** Reads `file` (shown to people as `shown`) and parses it with `schema`, collecting problems instead of stopping at the first. */
export function readDocument<T>(file: string, shown: string, schema: z.ZodType<T>): ReadDocument<T> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new WardenError("USAGE", `cannot read ${shown}; check the path`);
  }
  const lines = new LineCounter();
  // JSON is YAML 1.2 too, so one parser serves both and both get line numbers.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const locator = new Locator(shown, doc, lines);
  const problems: Problem[] = doc.errors.map((error) => {
    const pos = lines.linePos(error.pos[0]);
    return { file: shown, line: pos.line, column: pos.col, path: "", message: error.message.split("\n")[0]! };
  });
  problems.push(...reservedKeys(doc, shown, lines));
  if (problems.length > 0) return { text, locator, data: undefined, raw: undefined, problems };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // The yaml package refuses an alias bomb (aliases that expand past maxAliasCount) by throwing.
    if (!(error instanceof ReferenceError && /alias/i.test(error.message))) throw error;
    return { text, locator, data: undefined, raw: undefined, problems: [aliasProblem(shown, doc, lines)] };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { text, locator, data: parsed.data, raw, problems };
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((seg): seg is string | number => typeof seg !== "symbol");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push(locator.problem(path, `unknown field ${JSON.stringify(key)} ${issue.message}`, key));
      }
    } else if (issue.code === "invalid_type" && path.length > 0 && valueAt(raw, path) === undefined) {
      problems.push(locator.problem(path, `required field ${JSON.stringify(path.at(-1))} is missing`));
    } else {
      problems.push(locator.problem(path, issue.message));
    }
  }
  return { text, locator, data: undefined, raw, problems };
}

/** How many times an alias may be expanded in one document: a policy needs few, an alias bomb billions. */
const MAX_ALIAS_COUNT = 100;

/** The problem an alias bomb is, at its first alias (the yaml package's error carries no position). */
function aliasProblem(shown: string, doc: Document, lines: LineCounter): Problem {
  let at = 0;
  visit(doc, {
    Alias(_key, node) {
      at = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  const pos = lines.linePos(at);
  return {
    file: shown,
    line: pos.line,
    column: pos.col,
    path: "",
    message: `aliases here expand past the limit of ${MAX_ALIAS_COUNT} (a YAML alias bomb); write the values out instead`,
  };
}

/** Keys that plain data cannot hold safely: as an object key, `__proto__` is dropped or changes the prototype. */
const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A key that is a reserved name is refused where it stands, never silently dropped. */
function reservedKeys(doc: Document, shown: string, lines: LineCounter): Problem[] {
  const problems: Problem[] = [];
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || !RESERVED_KEYS.has(String(pair.key.value))) return;
      const path = ancestors
        .filter(isPair)
        .map((p) => (isScalar(p.key) ? String(p.key.value) : "?"))
        .concat(String(pair.key.value))
        .join(".");
      const pos = lines.linePos(pair.key.range?.[0] ?? 0);
      problems.push({
        file: shown,
        line: pos.line,
        column: pos.col,
        path,
        message: `${JSON.stringify(String(pair.key.value))} is a reserved name and cannot be a key; choose another name`,
      });
    },
  });
  return problems;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let at: unknown = data;
  for (const seg of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string | number, unknown>)[seg];
  }
  return at;
}
