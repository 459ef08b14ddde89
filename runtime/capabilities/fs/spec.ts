// The fs grant: its rights, the CLI spec syntax ("read,write:./dir"), and how a grant is shown to people.
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { WardenError } from "../../errors.ts";
import type { Grant, KindEnv } from "../types.ts";
import { errnoOf } from "./errors.ts";

export const FS_RIGHTS = ["read", "write", "create", "delete", "list"] as const;
export type FsRight = (typeof FS_RIGHTS)[number];

export interface FsScope {
  /** Realpath of the granted directory when the grant was made; for a one-file grant, the file's directory. */
  root: string;
  /**
   * For a one-file grant (`fs:read:./config.json`): the file's name in `root`. The handle then reaches that
   * one name and nothing else in the directory; the guest names it as it is called ("config.json").
   */
  file?: string;
}

const EXAMPLE = 'e.g. "fs:read,list:./data", "fs:read,write,create:/abs/dir" or "fs:read:./config.json"';
const VALID = `valid rights: ${FS_RIGHTS.join(", ")}`;

function usage(problem: string): WardenError {
  return new WardenError(
    "USAGE",
    `${problem}; an fs grant is RIGHTS:PATH (a directory or one file), ${EXAMPLE} (${VALID})`,
  );
}

function isRight(word: string): word is FsRight {
  return (FS_RIGHTS as readonly string[]).includes(word);
}

/** Rights in the kind's stable order, without repeats, whatever order the user wrote them in. */
export function canonicalRights(rights: readonly string[]): FsRight[] {
  return FS_RIGHTS.filter((right) => rights.includes(right));
}

export function parseFsSpec(body: string, env: KindEnv): Grant<FsScope> {
  const colon = body.indexOf(":");
  // "fs:./docs": a path with no rights before it.
  if (colon < 0 && /[./]/.test(body)) throw usage(`"fs:${body}" names no rights`);
  const rightsText = colon < 0 ? body : body.slice(0, colon);
  if (rightsText.trim() === "") throw usage(`"fs:${body}" names no rights`);
  const words = rightsText.split(",");
  const unknown = words.filter((word) => !isRight(word));
  if (unknown.length > 0) throw usage(`unknown fs right ${unknown.map((w) => JSON.stringify(w)).join(", ")}`);
  // "fs:read,list" names rights and stops: the path is what is missing, not the rights.
  const path = colon < 0 ? "" : body.slice(colon + 1);
  if (path === "") throw usage(`"fs:${body}" names no path`);
  const rights = canonicalRights(words);
  const target = realTarget(path, env.cwd);
  if (target.file === undefined) return { rights, scope: { root: target.root } };
  if (rights.includes("list")) {
    throw usage(
      `${JSON.stringify(path)} is a file, and the "list" right lists a directory; grant the directory to list it`,
    );
  }
  return { rights, scope: { root: target.root, file: target.file } };
}

/** The real directory a grant names, or the real directory and name of the one file it names. */
function realTarget(path: string, cwd: string): { root: string; file?: string } {
  let real: string;
  try {
    real = realpathSync(resolve(cwd, path));
  } catch (error) {
    if (errnoOf(error) === undefined) throw error;
    throw usage(`${JSON.stringify(path)} does not exist or cannot be reached`);
  }
  const stats = statSync(real);
  if (stats.isDirectory()) return { root: real };
  if (!stats.isFile()) throw usage(`${JSON.stringify(path)} is neither a directory nor a regular file`);
  return { root: dirname(real), file: basename(real) };
}

/** The host path a grant names: its directory, or its one file. */
export function grantedPath(scope: FsScope): string {
  return scope.file === undefined ? scope.root : join(scope.root, scope.file);
}

export function formatFsSpec(grant: Grant<FsScope>): string {
  return `fs:${canonicalRights(grant.rights).join(",")}:${grantedPath(grant.scope)}`;
}

export function describeFs(grant: Grant<FsScope>): string {
  const rights = canonicalRights(grant.rights);
  const where =
    grant.scope.file === undefined
      ? `files under ${grant.scope.root}`
      : `the one file ${grantedPath(grant.scope)}`;
  if (rights.length === 0) return `no access to ${where}`;
  const words = rights.length === 1 ? rights[0] : `${rights.slice(0, -1).join(", ")} and ${rights.at(-1)}`;
  return `${words} ${where}`;
}

/**
 * For rights that depend on the call, beyond the op's own right the kernel checks: creating a file that
 * does not exist yet, or the create half of a rename. The denial names a grant that would allow the call.
 */
export function requireRight(grant: Grant<FsScope>, right: FsRight, handle: string, doing: string): void {
  if (grant.rights.includes(right)) return;
  const wider = formatFsSpec({ ...grant, rights: [...grant.rights, right] });
  throw new WardenError(
    "CAPABILITY_DENIED",
    `${doing} needs the "${right}" right, which handle "${handle}" lacks`,
    {
      handle,
      right,
      grant: wider,
    },
  );
}
