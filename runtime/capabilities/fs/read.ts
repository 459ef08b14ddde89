// The read-side operations: readText, readBytes, stat and list.
import { close, closeSync, constants, fstat, fstatSync, read, readSync, type Stats } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { promisify } from "node:util";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import type { OpContext } from "../types.ts";
import { type EntryType, entryType, onPath, refuseDirOnly, regularFile } from "./common.ts";
import { fsError, symlinkDenied } from "./errors.ts";
import { bare, type GuestPath } from "./path.ts";
import { type FsOperation, type FsResource, MAX_IO_BYTES } from "./types.ts";
import { at, openFd, self, withDir, withParent } from "./walk.ts";

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
/** O_NONBLOCK so a FIFO left in the tree cannot hang the open; it is refused as "not a regular file". */
const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

const pathArgs = z.strictObject({ path: z.string() });
type PathArgs = z.infer<typeof pathArgs>;

function tooLarge(shown: string): WardenError {
  return new WardenError(
    "LIMIT_EXCEEDED",
    `${shown} is larger than the ${MAX_IO_BYTES}-byte (8 MiB) read cap`,
  );
}

/**
 * Reads below this size on a local filesystem use synchronous calls on the open fd: fstat answers from the
 * inode the open just loaded, a read of at most this much from a local disk or memory is bounded (one
 * page-cache copy, or one small disk read), and close of a read-only fd there flushes nothing. Each saves a
 * thread-pool round trip, which costs more than the call itself. The open stays asynchronous: its lookup
 * may cross into any filesystem mounted below the root.
 */
const SYNC_READ_MAX = 64 * 1024;

const fstatAsync = promisify(fstat);
const readAsync = promisify(read);
const closeAsync = promisify(close);

async function readCapped(
  rootFd: number,
  path: GuestPath,
  ctx: OpContext,
  root: FsResource,
): Promise<Uint8Array> {
  if (path.parts.length === 0) {
    throw new WardenError("IS_A_DIRECTORY", "the handle's own directory is a directory, not a file");
  }
  return withParent(rootFd, path, async (dirFd, name) => {
    if (path.dirOnly) await refuseDirOnly(dirFd, name, path.shown);
    let fd: number;
    try {
      fd = await openFd(at(dirFd, name), READ_FLAGS);
    } catch (error) {
      throw fsError(error, path.shown);
    }
    // Synchronous only where every file under the root is on its local filesystem (no mount below it), and
    // only for a small regular file: closing a device can wait on its driver (a tape rewinds on close).
    let sync = root.local;
    try {
      const stats = sync ? fstatSync(fd) : await fstatAsync(fd);
      if (!stats.isFile() || stats.dev !== root.dev || stats.size > SYNC_READ_MAX) sync = false;
      regularFile(stats, path.shown);
      if (stats.size > MAX_IO_BYTES) throw tooLarge(path.shown);
      // The size is only a hint: the file may grow while we read, so the cap is enforced on bytes read.
      ctx.reserve?.(stats.size + 1);
      let buffer = new Uint8Array(stats.size + 1);
      let length = 0;
      for (;;) {
        if (length === buffer.length) {
          if (length > MAX_IO_BYTES) throw tooLarge(path.shown);
          // A file that grew past its size: the rest is read asynchronously, however large it became.
          sync = false;
          const bigger = new Uint8Array(Math.min(buffer.length * 2, MAX_IO_BYTES + 1));
          ctx.reserve?.(bigger.length - buffer.length);
          bigger.set(buffer);
          buffer = bigger;
        }
        const wanted = buffer.length - length;
        const bytesRead = sync
          ? readSync(fd, buffer, length, wanted, null)
          : (await readAsync(fd, buffer, length, wanted, null)).bytesRead;
        if (bytesRead === 0) break;
        length += bytesRead;
        // A local filesystem reads a regular file in full up to its end: a short read is the end, and
        // saves the read that would return 0.
        if (sync && bytesRead < wanted) break;
      }
      return buffer.slice(0, length);
    } finally {
      if (sync) closeSync(fd);
      else await closeAsync(fd);
    }
  });
}

export const readBytes: FsOperation<PathArgs> = {
  right: "read",
  args: pathArgs,
  run: (target, args, ctx) =>
    onPath(target, args.path, (rootFd, path, root) => readCapped(rootFd, path, ctx, root)),
  summary: (args) => `readBytes ${bare(args.path)}`,
};

export const readText: FsOperation<PathArgs> = {
  right: "read",
  args: pathArgs,
  run: (target, args, ctx) =>
    onPath(target, args.path, async (rootFd, path, root) => {
      const bytes = await readCapped(rootFd, path, ctx, root);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    }),
  summary: (args) => `readText ${bare(args.path)}`,
};

function statResult(stats: Stats): { type: EntryType; size: number; mtimeMs: number } {
  return { type: entryType(stats), size: stats.size, mtimeMs: stats.mtimeMs };
}

export const statOp: FsOperation<PathArgs> = {
  right: "read",
  args: pathArgs,
  run: (target, args) =>
    onPath(target, args.path, async (rootFd, path) => {
      if (path.parts.length === 0) return statResult(await stat(self(rootFd)));
      return withParent(rootFd, path, async (dirFd, name) => {
        // lstat: the final component is reported as it is, a symlink is never resolved.
        const stats = await lstat(at(dirFd, name));
        if (path.dirOnly && stats.isSymbolicLink()) throw symlinkDenied(path.shown);
        if (path.dirOnly && !stats.isDirectory()) {
          throw new WardenError("NOT_A_DIRECTORY", `${path.shown} is not a directory`);
        }
        return statResult(stats);
      });
    }),
  summary: (args) => `stat ${bare(args.path)}`,
};

const listArgs = z.strictObject({ path: z.string().default("") });
type ListArgs = z.infer<typeof listArgs>;

export interface ListEntry {
  name: string;
  type: EntryType;
}

export const list: FsOperation<ListArgs> = {
  right: "list",
  args: listArgs,
  run: (target, args) =>
    onPath(target, args.path, (rootFd, path) =>
      withDir(rootFd, path, async (dirFd) => {
        const entries = await readdir(self(dirFd), { withFileTypes: true });
        const listed: ListEntry[] = entries.map((entry) => ({ name: entry.name, type: entryType(entry) }));
        // Code-unit order, not locale order: the same on every host.
        return listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }),
    ),
  summary: (args) => `list ${bare(args.path)}`,
};
