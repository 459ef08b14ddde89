// Lexical checks on a guest's path string: what it names relative to the handle's root, or why it is refused.
import { WardenError } from "../../errors.ts";

const MAX_PATH_CHARS = 4096;
const MAX_COMPONENTS = 256;
/** Linux NAME_MAX; checked here so the kernel's ENAMETOOLONG never reaches the guest as INTERNAL. */
const MAX_NAME_BYTES = 255;

export interface GuestPath {
  /** Normalised components below the root; empty means the root itself. None is "", "." or "..". */
  readonly parts: readonly string[];
  /** The guest wrote a trailing slash (or "/."), so the target must be a directory. */
  readonly dirOnly: boolean;
  /** The guest's own text, quoted and escaped, for messages and the audit log. */
  readonly shown: string;
}

/** Quotes guest text so control characters cannot forge lines in messages or logs. */
export function quote(text: string): string {
  const clipped = text.length > 200 ? `${text.slice(0, 200)}...` : text;
  return JSON.stringify(clipped);
}

/** The unquoted form used in audit summaries: escaped like `quote`, without the quotes. */
export function bare(text: string): string {
  if (text === "") return ".";
  return quote(text).slice(1, -1);
}

/**
 * Resolves `.`, `..` and empty segments lexically. This is sound only because the walker never follows a
 * symlink: with no symlinks, `a/..` always names the directory that holds `a`.
 */
export function parseGuestPath(raw: string): GuestPath {
  if (raw.length > MAX_PATH_CHARS) {
    throw new WardenError("INVALID_ARGUMENT", `path is longer than ${MAX_PATH_CHARS} characters`);
  }
  if (raw.includes("\0")) {
    throw new WardenError("CAPABILITY_DENIED", "path contains a NUL byte");
  }
  // A lone surrogate has no UTF-8 form: Node would open "a\ud800" and "a\ud801" both as "a\ufffd".
  if (!raw.isWellFormed()) {
    throw new WardenError("INVALID_ARGUMENT", "path holds a lone surrogate (ill-formed UTF-16)");
  }
  if (raw.startsWith("/") || raw.startsWith("\\")) {
    throw new WardenError(
      "CAPABILITY_DENIED",
      "absolute paths are not allowed; paths are relative to the handle's directory",
    );
  }
  const shown = quote(raw);
  const segments = raw.split("/");
  if (segments.length > MAX_COMPONENTS) {
    throw new WardenError("INVALID_ARGUMENT", `path ${shown} has more than ${MAX_COMPONENTS} components`);
  }
  const parts: string[] = [];
  for (const segment of segments) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) {
        throw new WardenError("CAPABILITY_DENIED", `path ${shown} is outside the handle's directory`);
      }
      parts.pop();
      continue;
    }
    if (Buffer.byteLength(segment, "utf8") > MAX_NAME_BYTES) {
      throw new WardenError(
        "INVALID_ARGUMENT",
        `path ${shown} has a name longer than ${MAX_NAME_BYTES} bytes`,
      );
    }
    parts.push(segment);
  }
  const last = segments[segments.length - 1];
  const dirOnly = segments.length > 1 && (last === "" || last === "." || last === "..");
  return { parts, dirOnly, shown };
}

/** How a message names component `index` of a path, e.g. `"a/b" (in "a/b/c")`. */
export function componentShown(path: GuestPath, index: number): string {
  if (index === path.parts.length - 1) return path.shown;
  return `${quote(path.parts.slice(0, index + 1).join("/"))} (in ${path.shown})`;
}
