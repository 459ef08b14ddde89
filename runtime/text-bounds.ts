// Bounds on guest-derived text (keys, paths, names, rights, messages, summaries): every such piece is clipped
// here, on the host, before it is formatted, redacted, logged or audited, so its size never sets the cost.
import type { z } from "zod";

/** How long each kind of guest-derived text may be once clipped (the cut marker comes on top). */
export const TEXT_BOUNDS = {
  /** A name a guest chose or sent: an operation, a right, a key, one segment of a path into its arguments. */
  name: 256,
  /** An error code a guest reports about itself. */
  code: 64,
  /** One error message: what a guest or a caller reads, and an audit record's reason. */
  message: 4096,
  /** An audit record's argument summary. */
  summary: 2048,
  /** Problems listed in one validation message. */
  issues: 20,
  /** Segments shown of one path into the arguments. */
  pathSegments: 32,
} as const;

/**
 * `text` if it fits in `max` characters, else its first `max` (never half of a surrogate pair) and a marker
 * saying how much was cut. Host code: a guest that patched its own String.prototype changes nothing here.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…[cut ${text.length - end} chars]`;
}

/** The first line of `text`, clipped: how an exception's text becomes a message. */
export function firstLine(text: string, max: number = TEXT_BOUNDS.message): string {
  const nl = text.indexOf("\n");
  return clip(nl < 0 ? text : text.slice(0, nl), max);
}

/** A name as a message quotes it: clipped, so a megabyte key costs what a short one does. */
export function name(text: string): string {
  return clip(text, TEXT_BOUNDS.name);
}

/**
 * A zod error map for parsing guest input: the one default message that echoes the input (unrecognized keys)
 * is built from clipped keys, at most a few of them, so zod never builds text the size of the input.
 * Wording is zod's own for input of ordinary size; every other issue keeps zod's message.
 */
export const boundedIssues: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== "unrecognized_keys") return undefined;
  const keys = issue.keys;
  const shown = keys.slice(0, TEXT_BOUNDS.issues).map((key) => `"${name(key)}"`);
  const more = keys.length > shown.length ? `, and ${keys.length - shown.length} more` : "";
  return `Unrecognized key${keys.length > 1 ? "s" : ""}: ${shown.join(", ")}${more}`;
};

/**
 * zod's prettifyError, bounded: at most a few problems, each message clipped, each path segment clipped and
 * deep paths shortened. Identical to prettifyError for an error of ordinary size (tests pin that wording).
 */
export function formatIssues(error: z.ZodError): string {
  const issues = error.issues;
  // Shortest paths first, as zod does; only the shown ones are sorted (a guest can cause a million issues).
  const picked: (typeof issues)[number][] = [];
  const max = TEXT_BOUNDS.issues;
  const byPath = (a: (typeof issues)[number], b: (typeof issues)[number]) => a.path.length - b.path.length;
  for (const issue of issues) {
    if (picked.length < max) {
      picked.push(issue);
      if (picked.length === max) picked.sort(byPath);
    } else if (issue.path.length < picked[max - 1]!.path.length) {
      // Kept sorted once full; an issue no shorter than the last kept would sort after it (stable order).
      picked.push(issue);
      picked.sort(byPath);
      picked.pop();
    }
  }
  picked.sort(byPath);
  const lines: string[] = [];
  for (const issue of picked) {
    lines.push(`✖ ${clip(issue.message, TEXT_BOUNDS.message)}`);
    if (issue.path.length > 0) lines.push(`  → at ${dotPath(issue.path)}`);
  }
  if (issues.length > picked.length) lines.push(`✖ and ${issues.length - picked.length} more problems`);
  return lines.join("\n");
}

/** zod's toDotPath with each segment clipped, and the middle of a deep path elided. */
function dotPath(path: readonly PropertyKey[]): string {
  const max = TEXT_BOUNDS.pathSegments;
  const shown = path.length > max ? [...path.slice(0, max / 2), undefined, ...path.slice(-max / 2)] : path;
  const segs: string[] = [];
  for (const seg of shown) {
    if (seg === undefined) segs.push(`[…${path.length - max} more]`);
    else if (typeof seg === "number") segs.push(`[${seg}]`);
    else if (typeof seg === "symbol") segs.push(`[${JSON.stringify(name(String(seg)))}]`);
    else if (/[^\w$]/.test(seg) || seg.length > TEXT_BOUNDS.name) segs.push(`[${JSON.stringify(name(seg))}]`);
    else {
      if (segs.length > 0) segs.push(".");
      segs.push(seg);
    }
  }
  return segs.join("");
}
