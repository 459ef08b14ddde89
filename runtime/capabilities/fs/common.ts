// Helpers every fs operation shares: parsing the guest path, mapping its errors, and opening final files.
import type { Stats } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { WardenError } from "../../errors.ts";
import type { OpenHandle } from "../types.ts";
import { fsError } from "./errors.ts";
import { outsideOneFile } from "./one-file.ts";
import { type GuestPath, parseGuestPath } from "./path.ts";
import type { FsScope } from "./spec.ts";
import type { FsResource } from "./types.ts";
import { at, openDirAt } from "./walk.ts";

export type EntryType = "file" | "directory" | "symlink" | "other";

/**
 * Parses the guest's path, holds the root fd for the call, and maps any host error to a code that names
 * the guest's path. Errors from deeper steps are already WardenErrors naming the component that failed.
 */
export async function onPath<T>(
  target: OpenHandle<FsScope, FsResource>,
  raw: string,
  fn: (rootFd: number, path: GuestPath, root: FsResource) => Promise<T>,
): Promise<T> {
  const path = parseGuestPath(raw);
  // Also checked by the gate; repeated here so no operation can reach past a one-file grant by mistake.
  const outside = outsideOneFile(target.grant.scope, { path: raw });
  if (outside !== undefined) throw new WardenError("CAPABILITY_DENIED", outside);
  try {
    return await target.resource.use((rootFd) => fn(rootFd, path, target.resource));
  } catch (error) {
    throw fsError(error, path.shown);
  }
}

export function rootRefused(doing: string): WardenError {
  return new WardenError("CAPABILITY_DENIED", `the handle's own directory cannot be ${doing}`);
}

export function entryType(entry: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}): EntryType {
  if (entry.isFile()) return "file";
  if (entry.isDirectory()) return "directory";
  if (entry.isSymbolicLink()) return "symlink";
  return "other";
}

/** Opens a final component as a file. Callers always include O_NOFOLLOW, so a symlink fails with ELOOP. */
export async function openFileAt(
  dirFd: number,
  name: string,
  flags: number,
  shown: string,
  mode?: number,
): Promise<FileHandle> {
  try {
    return await open(at(dirFd, name), flags, mode);
  } catch (error) {
    throw fsError(error, shown);
  }
}

/** Reads and writes go only to regular files: never devices, FIFOs or sockets a host left in the tree. */
export async function requireRegularFile(file: FileHandle, shown: string): Promise<Stats> {
  return regularFile(await file.stat(), shown);
}

export function regularFile(stats: Stats, shown: string): Stats {
  if (stats.isDirectory()) throw new WardenError("IS_A_DIRECTORY", `${shown} is a directory`);
  if (!stats.isFile()) throw new WardenError("INVALID_ARGUMENT", `${shown} is not a regular file`);
  return stats;
}

/**
 * A file operation on "name/" (trailing slash): the guest named a directory. Says which error applies
 * without ever treating the target as a file: a directory is IS_A_DIRECTORY, anything else fails the open.
 */
export async function refuseDirOnly(dirFd: number, name: string, shown: string): Promise<never> {
  const dir = await openDirAt(dirFd, name, shown);
  await dir.close();
  throw new WardenError("IS_A_DIRECTORY", `${shown} is a directory`);
}
