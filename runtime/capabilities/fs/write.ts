// The write operations: writeText and writeBytes, which need "create" as well when the file is new.
import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import type { OpContext, OpenHandle } from "../types.ts";
import { onPath, openFileAt, refuseDirOnly, requireRegularFile } from "./common.ts";
import { bare, type GuestPath } from "./path.ts";
import { type FsScope, requireRight } from "./spec.ts";
import { type FsOperation, type FsResource, MAX_IO_BYTES } from "./types.ts";
import { withParent } from "./walk.ts";

const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
/** No O_TRUNC at open: truncate only after fstat has shown a regular file. O_NONBLOCK: a FIFO cannot hang us. */
const EXISTING_FLAGS = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
/** O_CREAT|O_EXCL never follows a symlink, not even a dangling one: it fails with EEXIST instead. */
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY;

const textArgs = z.strictObject({ path: z.string(), text: z.string(), append: z.boolean().optional() });
const bytesArgs = z.strictObject({
  path: z.string(),
  bytes: z.instanceof(Uint8Array),
  append: z.boolean().optional(),
});
type TextArgs = z.infer<typeof textArgs>;
type BytesArgs = z.infer<typeof bytesArgs>;

/** Opens the file for writing: the existing one, or a new one if the grant also holds "create". */
async function openForWrite(
  target: OpenHandle<FsScope, FsResource>,
  ctx: OpContext,
  dirFd: number,
  name: string,
  path: GuestPath,
  append: boolean,
): Promise<{ file: FileHandle; created: boolean }> {
  const appendFlag = append ? O_APPEND : 0;
  // Two tries: a file that appears between our two opens is then opened as an existing file.
  for (let attempt = 0; ; attempt++) {
    try {
      return { file: await openFileAt(dirFd, name, EXISTING_FLAGS | appendFlag, path.shown), created: false };
    } catch (error) {
      if (!(error instanceof WardenError && error.code === "NOT_FOUND")) throw error;
    }
    requireRight(target.grant, "create", ctx.handleName, `creating ${path.shown}`);
    try {
      return {
        file: await openFileAt(dirFd, name, CREATE_FLAGS | appendFlag, path.shown, 0o666),
        created: true,
      };
    } catch (error) {
      const raced = error instanceof WardenError && error.code === "ALREADY_EXISTS" && attempt === 0;
      if (!raced) throw error;
    }
  }
}

async function writeAll(
  target: OpenHandle<FsScope, FsResource>,
  ctx: OpContext,
  raw: string,
  data: Uint8Array,
  append: boolean,
): Promise<void> {
  if (data.byteLength > MAX_IO_BYTES) {
    throw new WardenError("LIMIT_EXCEEDED", `a single write is capped at ${MAX_IO_BYTES} bytes (8 MiB)`);
  }
  await onPath(target, raw, async (rootFd, path) => {
    if (path.parts.length === 0) {
      throw new WardenError("IS_A_DIRECTORY", "the handle's own directory is a directory, not a file");
    }
    await withParent(rootFd, path, async (dirFd, name) => {
      if (path.dirOnly) await refuseDirOnly(dirFd, name, path.shown);
      const { file, created } = await openForWrite(target, ctx, dirFd, name, path, append);
      try {
        await requireRegularFile(file, path.shown);
        if (!created && !append) await file.truncate(0);
        await file.writeFile(data);
      } finally {
        await file.close();
      }
    });
  });
}

function writeSummary(op: string, path: string, bytes: number, append: boolean | undefined): string {
  return `${op} ${bare(path)} (${bytes} bytes${append ? ", append" : ""})`;
}

export const writeText: FsOperation<TextArgs> = {
  right: "write",
  args: textArgs,
  run: (target, args, ctx) =>
    writeAll(target, ctx, args.path, Buffer.from(args.text, "utf8"), args.append === true),
  summary: (args) => writeSummary("writeText", args.path, Buffer.byteLength(args.text, "utf8"), args.append),
};

export const writeBytes: FsOperation<BytesArgs> = {
  right: "write",
  args: bytesArgs,
  run: (target, args, ctx) => writeAll(target, ctx, args.path, args.bytes, args.append === true),
  summary: (args) => writeSummary("writeBytes", args.path, args.bytes.byteLength, args.append),
};
