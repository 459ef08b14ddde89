// The fs grant: its rights, the CLI spec syntax ("read,write:./dir"), and how a grant is shown to people.
import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { WardenError } from "../../errors.ts";
import type { Grant, KindEnv } from "../types.ts";
import { errnoOf } from "./errors.ts";

export const FS_RIGHTS = ["read", "write", "create", "delete", "list"] as const;
export type FsRight = (typeof FS_RIGHTS)[number];

export interface FsScope {
  /** Realpath of the granted directory when the grant was made. */
  root: string;
}

const EXAMPLE = 'e.g. "fs:read,list:./data" or "fs:read,write,create:/abs/dir"';
const VALID = `valid rights: ${FS_RIGHTS.join(", ")}`;

function usage(problem: string): WardenError {
  return new WardenError("USAGE", `${problem}; an fs grant is RIGHTS:PATH, ${EXAMPLE} (${VALID})`);
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
  if (colon < 0) throw usage(`"fs:${body}" names no rights`);
  if (body.slice(0, colon).trim() === "") throw usage(`"fs:${body}" names no rights`);
  const words = body.slice(0, colon).split(",");
  const path = body.slice(colon + 1);
  const unknown = words.filter((word) => !isRight(word));
  if (unknown.length > 0) throw usage(`unknown fs right ${unknown.map((w) => JSON.stringify(w)).join(", ")}`);
  if (path === "") throw usage(`"fs:${body}" names no directory`);
  return { rights: canonicalRights(words), scope: { root: realDirectory(path, env.cwd) } };
}

function realDirectory(path: string, cwd: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(cwd, path));
  } catch (error) {
    if (errnoOf(error) === undefined) throw error;
    throw usage(`the directory ${JSON.stringify(path)} does not exist or cannot be reached`);
  }
  if (!statSync(real).isDirectory()) throw usage(`${JSON.stringify(path)} is not a directory`);
  return real;
}

export function formatFsSpec(grant: Grant<FsScope>): string {
  return `fs:${canonicalRights(grant.rights).join(",")}:${grant.scope.root}`;
}

export function describeFs(grant: Grant<FsScope>): string {
  const rights = canonicalRights(grant.rights);
  if (rights.length === 0) return `no access to files under ${grant.scope.root}`;
  const words = rights.length === 1 ? rights[0] : `${rights.slice(0, -1).join(", ")} and ${rights.at(-1)}`;
  return `${words} files under ${grant.scope.root}`;
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
