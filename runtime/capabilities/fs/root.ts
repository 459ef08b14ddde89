// Opening a grant's root directory, and narrowing a handle to a subdirectory, both without following links.
import { constants } from "node:fs";
import { type FileHandle, lstat, open, readlink, stat } from "node:fs/promises";
import { isAbsolute, relative } from "node:path";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import type { OpenHandle } from "../types.ts";
import { onPath } from "./common.ts";
import { errnoOf, fsError } from "./errors.ts";
import { quote } from "./path.ts";
import { RootDir } from "./resource.ts";
import type { FsScope } from "./spec.ts";
import type { FsResource } from "./types.ts";
import { openDirPath, self, withDir } from "./walk.ts";

const { O_RDONLY, O_DIRECTORY } = constants;

function moved(): WardenError {
  return new WardenError(
    "CAPABILITY_DENIED",
    "the handle's directory cannot be opened: it was moved or removed, or a directory on its path was replaced",
  );
}

/**
 * The scope's root is a realpath, so it has no symlinks: walking it from "/" with O_NOFOLLOW at every
 * step refuses a root (or any directory above it) that was swapped for a symlink after the grant was made.
 */
export async function openRoot(scope: FsScope): Promise<RootDir> {
  const root = scope.root;
  if (!isAbsolute(root) || root.split("/").includes("..")) throw moved();
  const parts = root.split("/").filter((part) => part !== "" && part !== ".");
  const top = await open("/", O_RDONLY | O_DIRECTORY);
  let keepTop = false;
  try {
    await requireProcFd(top);
    const dir = await openDirPath(top.fd, { parts, dirOnly: false, shown: quote(root) }, parts.length);
    if (dir !== undefined) return new RootDir(dir);
    keepTop = true;
    return new RootDir(top);
  } catch (error) {
    const mapped = fsError(error, "the handle's directory");
    // Messages from the walk name host path components; a guest may read this, so it gets a fixed text.
    const replaced = mapped.code === "NOT_FOUND" ? new WardenError("NOT_FOUND", moved().message) : moved();
    replaced.cause = error;
    throw replaced;
  } finally {
    if (!keepTop) await top.close();
  }
}

/**
 * Opens a derived handle's root from its parent's open directory, never by its path from "/": a process
 * that swaps a directory above it between narrowing and opening cannot redirect the new handle.
 */
export async function openBelow(scope: FsScope, parent: OpenHandle<FsScope, FsResource>): Promise<RootDir> {
  const rel = relative(parent.grant.scope.root, scope.root);
  // ".." as a whole component climbs; "..hidden" is an ordinary name.
  if (rel === ".." || rel.startsWith("../") || isAbsolute(rel)) throw moved();
  const parts = rel.split("/").filter((part) => part !== "");
  return parent.resource.use(async (parentFd) => {
    try {
      const dir = await openDirPath(parentFd, { parts, dirOnly: false, shown: quote(rel) }, parts.length);
      return new RootDir(dir ?? (await open(self(parentFd), O_RDONLY | O_DIRECTORY)));
    } catch (error) {
      const replaced = moved();
      replaced.cause = error;
      throw replaced;
    }
  });
}

/**
 * Everything rests on /proc/self/fd/N naming fd N's directory. Without a Linux /proc (not mounted, another
 * OS) those paths would fail or mean something else, so no handle opens at all.
 */
async function requireProcFd(handle: FileHandle): Promise<void> {
  const direct = await handle.stat();
  const viaProc = await stat(self(handle.fd)).catch((error: unknown) => {
    if (errnoOf(error) === undefined) throw error;
    return undefined;
  });
  if (viaProc === undefined || viaProc.dev !== direct.dev || viaProc.ino !== direct.ino) {
    throw new WardenError(
      "INTERNAL",
      "fs handles need Linux with /proc mounted; Warden resolves paths through it",
    );
  }
}

export const narrowArgs = z.strictObject({ path: z.string() });

/**
 * The subdirectory is reached through the parent's fd like any other path; its host path is then read
 * back from the fd and kept only if it still names that same directory, inside the parent's root.
 */
export async function narrowScope(
  parent: OpenHandle<FsScope, FsResource>,
  request: unknown,
): Promise<FsScope> {
  const parsed = narrowArgs.safeParse(request);
  if (!parsed.success) throw new WardenError("INVALID_ARGUMENT", 'narrow takes { path: "sub/dir" }');
  return onPath(parent, parsed.data.path, (rootFd, path) =>
    withDir(rootFd, path, async (dirFd) => {
      const host = await readlink(self(dirFd));
      const held = await stat(self(dirFd));
      const named = await lstat(host).catch((error: unknown) => {
        if (errnoOf(error) === undefined) throw error;
        return undefined;
      });
      const root = parent.grant.scope.root;
      const inside = host === root || host.startsWith(root === "/" ? "/" : `${root}/`);
      const same = named !== undefined && named.dev === held.dev && named.ino === held.ino;
      if (!isAbsolute(host) || !inside || !same) {
        throw new WardenError(
          "CAPABILITY_DENIED",
          `${path.shown} moved while the handle was being narrowed, or the handle's directory was moved`,
        );
      }
      return { root: host };
    }),
  );
}
