// Where a problem in a YAML or JSON document is: file, line, column and the path of the field, in words.

import type { Document } from "yaml";
import { isMap, isScalar, isSeq, type LineCounter, type Node, type ParsedNode } from "yaml";
import { WardenError } from "../errors.ts";

export type DocPath = readonly (string | number)[];

export interface Problem {
  file: string;
  line: number;
  column: number;
  /** The field, e.g. `tools.reader.grants.files.fs.rights[1]`; empty for the document itself. */
  path: string;
  message: string;
}

export function formatPath(path: DocPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** One line per problem: `file:line:col: path: message`. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path === "" ? "" : `${p.path}: `}${p.message}`;
}

/** The error for a document with problems: every one listed, in document order. */
export function invalid(file: string, problems: Problem[], what = "policy"): WardenError {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  const count = sorted.length === 1 ? "1 problem" : `${sorted.length} problems`;
  return new WardenError(
    "POLICY_INVALID",
    `${what} ${file} is not valid (${count}):\n${sorted.map(formatProblem).join("\n")}`,
  );
}

/** Finds where a path points in a parsed document; `atKey` points at a map key (an unknown field) rather than its value. */
export class Locator {
  private readonly file: string;
  private readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  constructor(file: string, doc: Document.Parsed, lines: LineCounter) {
    this.file = file;
    this.doc = doc;
    this.lines = lines;
  }

  problem(path: DocPath, message: string, atKey?: string): Problem {
    const offset = this.offset(atKey === undefined ? path : [...path, atKey], atKey !== undefined);
    const { line, col } = this.lines.linePos(offset);
    return {
      file: this.file,
      line,
      column: col,
      path: formatPath(atKey === undefined ? path : [...path, atKey]),
      message,
    };
  }

  /** The line a path points at. */
  lineOf(path: DocPath): number {
    return this.lines.linePos(this.offset(path, false)).line;
  }

  private offset(path: DocPath, key: boolean): number {
    let node: Node | null | undefined = this.doc.contents as ParsedNode | null;
    let at = node?.range?.[0] ?? 0;
    for (const [i, seg] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        const last = i === path.length - 1;
        const target = (last && key ? pair.key : pair.value) as Node | null;
        if (!target) break;
        node = target;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        node = item;
      } else break;
      at = node.range?.[0] ?? at;
    }
    return at;
  }
}
