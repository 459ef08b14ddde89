// The read-side operations: readText, readBytes, stat and list.
import { constants, type Stats } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import type { OpContext } from "../types.ts";
import {
  type EntryType,
  entryType,
  onPath,
  openFileAt,
  refuseDirOnly,
  requireRegularFile,
} from "./common.ts";
import { symlinkDenied } from "./errors.ts";
import { bare, type GuestPath } from "./path.ts";
import { type FsOperation, MAX_IO_BYTES } from "./types.ts";
import { at, self, withDir, withParent } from "./walk.ts";

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

async function readCapped(rootFd: number, path: GuestPath, ctx: OpContext): Promise<Uint8Array> {
  if (path.parts.length === 0) {
    throw new WardenError("IS_A_DIRECTORY", "the handle's own directory is a directory, not a file");
  }
  return withParent(rootFd, path, async (dirFd, name) => {
    if (path.dirOnly) await refuseDirOnly(dirFd, name, path.shown);
    const file = await openFileAt(dirFd, name, READ_FLAGS, path.shown);
    try {
      const stats = await requireRegularFile(file, path.shown);
      if (stats.size > MAX_IO_BYTES) throw tooLarge(path.shown);
      // The size is only a hint: the file may grow while we read, so the cap is enforced on bytes read.
      ctx.reserve?.(stats.size + 1);
      let buffer = new Uint8Array(stats.size + 1);
      let length = 0;
      for (;;) {
        if (length === buffer.length) {
          if (length > MAX_IO_BYTES) throw tooLarge(path.shown);
          const bigger = new Uint8Array(Math.min(buffer.length * 2, MAX_IO_BYTES + 1));
          ctx.reserve?.(bigger.length - buffer.length);
          bigger.set(buffer);
          buffer = bigger;
        }
        const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      return buffer.slice(0, length);
    } finally {
      await file.close();
    }
  });
}

export const readBytes: FsOperation<PathArgs> = {
  right: "read",
  args: pathArgs,
  run: (target, args, ctx) => onPath(target, args.path, (rootFd, path) => readCapped(rootFd, path, ctx)),
  summary: (args) => `readBytes ${bare(args.path)}`,
};

export const readText: FsOperation<PathArgs> = {
  right: "read",
  args: pathArgs,
  run: (target, args, ctx) =>
    onPath(target, args.path, async (rootFd, path) => {
      const bytes = await readCapped(rootFd, path, ctx);
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
