// The operations that change the tree's shape: mkdir, remove and rename.
import { lstat, mkdir, readdir, rename, rmdir, unlink } from "node:fs/promises";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { onPath, rootRefused } from "./common.ts";
import { errnoOf, fsError, symlinkDenied } from "./errors.ts";
import { outsideOneFile } from "./one-file.ts";
import { bare, type GuestPath, parseGuestPath, quote } from "./path.ts";
import type { FsOperation } from "./types.ts";
import { at, isSymlinkAt, openDirAt, self, withDir, withParent } from "./walk.ts";

/** Each level of a recursive remove holds one fd; this bounds how many one call can hold. */
const MAX_REMOVE_DEPTH = 256;

const mkdirArgs = z.strictObject({ path: z.string(), recursive: z.boolean().optional() });
type MkdirArgs = z.infer<typeof mkdirArgs>;

export const mkdirOp: FsOperation<MkdirArgs> = {
  right: "create",
  args: mkdirArgs,
  run: (target, args) =>
    onPath(target, args.path, async (rootFd, path) => {
      if (args.recursive === true) {
        await withDir(rootFd, path, async () => undefined, { create: true });
        return;
      }
      if (path.parts.length === 0) {
        throw new WardenError("ALREADY_EXISTS", "the handle's own directory already exists");
      }
      await withParent(rootFd, path, (dirFd, name) => mkdir(at(dirFd, name), 0o777));
    }),
  summary: (args) => `mkdir ${bare(args.path)}${args.recursive ? " (recursive)" : ""}`,
};

const removeArgs = z.strictObject({ path: z.string(), recursive: z.boolean().optional() });
type RemoveArgs = z.infer<typeof removeArgs>;

/**
 * Removes the directory `name` in `parentFd` and everything under it. Each level is opened O_NOFOLLOW and
 * its entries are unlinked relative to that fd, so a directory swapped for a symlink mid-way is unlinked
 * as a link (or refused), never descended into: nothing outside the tree can be deleted.
 * `relative` is the guest-relative path of the directory, for messages.
 */
async function removeTree(
  parentFd: number,
  name: string | Buffer,
  relative: string,
  depth: number,
  signal: AbortSignal,
): Promise<void> {
  if (depth > MAX_REMOVE_DEPTH) {
    throw new WardenError(
      "LIMIT_EXCEEDED",
      `${quote(relative)} is nested deeper than ${MAX_REMOVE_DEPTH} directories`,
    );
  }
  const dir = await openDirAt(parentFd, name, quote(relative));
  try {
    // Raw names: a file whose name is not valid UTF-8 must still be removable.
    const entries = await readdir(self(dir.fd), { encoding: "buffer" });
    for (const entry of entries) {
      if (signal.aborted) throw new WardenError("CAPABILITY_DENIED", "the call was cancelled");
      const child = `${relative}/${entry.toString("utf8")}`;
      try {
        await unlink(at(dir.fd, entry));
      } catch (error) {
        if (errnoOf(error) !== "EISDIR") throw fsError(error, quote(child));
        await removeTree(dir.fd, entry, child, depth + 1, signal);
      }
    }
  } finally {
    await dir.close();
  }
  await rmdir(at(parentFd, name));
}

/** rmdir on a symlink says ENOTDIR; say what it is instead, since symlinks are refused everywhere. */
async function removeEmptyDir(dirFd: number, name: string, shown: string): Promise<void> {
  try {
    await rmdir(at(dirFd, name));
  } catch (error) {
    if (errnoOf(error) === "ENOTDIR" && (await isSymlinkAt(dirFd, name))) throw symlinkDenied(shown);
    throw error;
  }
}

export const remove: FsOperation<RemoveArgs> = {
  right: "delete",
  args: removeArgs,
  run: (target, args, ctx) =>
    onPath(target, args.path, async (rootFd, path) => {
      if (path.parts.length === 0) throw rootRefused("removed");
      await withParent(rootFd, path, async (dirFd, name) => {
        if (!path.dirOnly) {
          // unlink never follows the final component: a symlink is removed, its target is untouched.
          try {
            await unlink(at(dirFd, name));
            return;
          } catch (error) {
            if (errnoOf(error) !== "EISDIR") throw error;
          }
        }
        if (args.recursive === true) await removeTree(dirFd, name, path.parts.join("/"), 1, ctx.signal);
        else await removeEmptyDir(dirFd, name, path.shown);
      });
    }),
  summary: (args) => `remove ${bare(args.path)}${args.recursive ? " (recursive)" : ""}`,
};

const renameArgs = z.strictObject({ from: z.string(), to: z.string() });
type RenameArgs = z.infer<typeof renameArgs>;

/** Both names are walked from the root fd; rename(2) itself never follows either final component. */
async function renameWithin(rootFd: number, from: GuestPath, to: GuestPath): Promise<void> {
  if (from.parts.length === 0) throw rootRefused("moved");
  if (to.parts.length === 0) throw rootRefused("replaced");
  await withParent(rootFd, from, async (fromFd, fromName) => {
    const source = await lstat(at(fromFd, fromName));
    // Moving a link could change what a relative target means to host programs that follow links.
    if (source.isSymbolicLink()) throw symlinkDenied(from.shown);
    if ((from.dirOnly || to.dirOnly) && !source.isDirectory()) {
      throw new WardenError("NOT_A_DIRECTORY", `${from.shown} is not a directory`);
    }
    await withParent(rootFd, to, async (toFd, toName) => {
      try {
        await rename(at(fromFd, fromName), at(toFd, toName));
      } catch (error) {
        const code = errnoOf(error);
        if (code === "EINVAL") {
          throw new WardenError("INVALID_ARGUMENT", `${from.shown} cannot be moved into itself`);
        }
        // EEXIST/ENOTEMPTY/EISDIR/ENOTDIR here are about the destination.
        const destination = code === "ENOENT" ? from.shown : to.shown;
        throw fsError(error, destination);
      }
    });
  });
}

export const renameOp: FsOperation<RenameArgs> = {
  right: "delete",
  args: renameArgs,
  alsoRequires: ["create"],
  run: async (target, args) => {
    const to = parseGuestPath(args.to);
    const outside = outsideOneFile(target.grant.scope, { to: args.to });
    if (outside !== undefined) throw new WardenError("CAPABILITY_DENIED", outside);
    return onPath(target, args.from, (rootFd, from) => renameWithin(rootFd, from, to));
  },
  summary: (args) => `rename ${bare(args.from)} -> ${bare(args.to)}`,
};
