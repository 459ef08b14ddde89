// The reach table, written once: path tricks and write tricks against an fs grant, and the directory tree they
// run in. Each backend's suite renders the rows as its own kind of tool call.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const PATH_TRICKS: Array<{ name: string; path: string }> = [
  { name: "parent directory", path: "../outside/secret.txt" },
  { name: "parent of a subdirectory", path: "sub/../../outside/secret.txt" },
  { name: "absolute path", path: "/etc/passwd" },
  { name: "/proc", path: "/proc/self/environ" },
  { name: "sibling with the same prefix", path: "../root-evil/secret.txt" },
  { name: "absolute symlink", path: "abs-link" },
  { name: "relative symlink", path: "rel-link" },
  { name: "chained symlinks", path: "chain-link" },
  { name: "symlink to a directory", path: "dir-link/secret.txt" },
  { name: "symlink inside pointing inside", path: "inner-link" },
  { name: "trailing slash on a symlink", path: "dir-link/" },
  { name: "NUL byte", path: "sub/\u0000../../outside/secret.txt" },
];

export interface WriteTrick {
  name: string;
  op: "write" | "mkdir" | "rename" | "remove";
  path: string;
  to?: string;
  recursive?: boolean;
}

export const WRITE_TRICKS: WriteTrick[] = [
  { name: "write through an absolute symlink", op: "write", path: "abs-link" },
  { name: "write into a symlinked directory", op: "write", path: "dir-link/new.txt" },
  { name: "write above the root", op: "write", path: "../outside/new.txt" },
  { name: "mkdir above the root", op: "mkdir", path: "../outside/made" },
  { name: "rename out of the root", op: "rename", path: "inside.txt", to: "../outside/moved.txt" },
  { name: "rename the outside in", op: "rename", path: "../outside/secret.txt", to: "stolen.txt" },
  { name: "remove through a symlinked directory", op: "remove", path: "dir-link/secret.txt" },
  { name: "remove the root itself", op: "remove", path: ".", recursive: true },
];

/**
 * `base/root` (granted) and `base/outside` (not), with a sibling `root-evil` sharing root's prefix and
 * symlinks inside root that point outside (absolute, relative, chained, to a directory) and inside.
 */
export function makeReachTree(base: string): { root: string; outside: string } {
  const root = join(base, "root");
  const outside = join(base, "outside");
  for (const d of [root, outside, join(base, "root-evil"), join(root, "sub"), join(root, "inner")])
    mkdirSync(d);
  writeFileSync(join(outside, "secret.txt"), "OUTSIDE");
  writeFileSync(join(base, "root-evil", "secret.txt"), "EVIL");
  writeFileSync(join(root, "inside.txt"), "inside");
  writeFileSync(join(root, "inner", "file.txt"), "inner");
  symlinkSync(join(outside, "secret.txt"), join(root, "abs-link"));
  symlinkSync("../outside/secret.txt", join(root, "rel-link"));
  symlinkSync("rel-link", join(root, "chain-link"));
  symlinkSync(outside, join(root, "dir-link"));
  symlinkSync("inner/file.txt", join(root, "inner-link"));
  return { root, outside };
}
