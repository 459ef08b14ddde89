// Resolves guest paths one component at a time relative to open directory fds, so no symlink is ever followed.
import { closeSync, constants, open as openCallback } from "node:fs";
import { lstat, mkdir } from "node:fs/promises";
import { promisify } from "node:util";
import { errnoOf, fsError, symlinkDenied } from "./errors.ts";
import { componentShown, type GuestPath } from "./path.ts";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
/** open(2) returning the fd number: the walk closes its directories itself (see OpenDir). */
export const openFd = promisify(openCallback);

/**
 * A directory the walk opened, by fd. Closing it is synchronous: close(2) of a read-only directory fd has
 * nothing to flush and never waits on the filesystem (local ones free it in memory; NFS closes a directory
 * without a request; FUSE sends RELEASEDIR in the background), so it is bounded and cheaper than a
 * thread-pool round trip.
 */
export class OpenDir {
  #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  get fd(): number {
    return this.#fd;
  }

  async close(): Promise<void> {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeSync(fd);
  }
}

/**
 * Node has no openat(2). The magic link /proc/self/fd/N resolves to whatever directory fd N refers to now,
 * so `at(N, name)` names `name` inside that directory however it has been renamed or replaced since.
 * Only `name` is looked up by path; callers pass single validated components, never "/" or "..".
 */
export function at(dirFd: number, name: string): string;
export function at(dirFd: number, name: string | Buffer): string | Buffer;
export function at(dirFd: number, name: string | Buffer): string | Buffer {
  const prefix = `/proc/self/fd/${dirFd}/`;
  // A raw name from readdir may not be valid UTF-8; it is passed on as bytes.
  return typeof name === "string" ? prefix + name : Buffer.concat([Buffer.from(prefix), name]);
}

/** The directory fd N itself, for readdir/stat of a directory we already hold. */
export function self(dirFd: number): string {
  return `/proc/self/fd/${dirFd}`;
}

/**
 * Opens `name` inside `dirFd` as a directory, never through a symlink. O_DIRECTORY|O_NOFOLLOW reports a
 * symlink as ENOTDIR, not ELOOP; the lstat afterwards only picks the message, the open already refused it.
 */
export async function openDirAt(dirFd: number, name: string | Buffer, shown: string): Promise<OpenDir> {
  try {
    // Asynchronous: the lookup of `name` may reach any filesystem mounted below, a slow one included.
    return new OpenDir(await openFd(at(dirFd, name), DIR_FLAGS));
  } catch (error) {
    if (errnoOf(error) === "ENOTDIR" && (await isSymlinkAt(dirFd, name))) throw symlinkDenied(shown);
    throw fsError(error, shown);
  }
}

/** True when `name` in `dirFd` is a symlink now; false when it is anything else or gone. */
export async function isSymlinkAt(dirFd: number, name: string | Buffer): Promise<boolean> {
  try {
    return (await lstat(at(dirFd, name))).isSymbolicLink();
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return false;
    throw error;
  }
}

export interface WalkOptions {
  /** Create missing directories on the way (mkdir -p). */
  create?: boolean;
}

/**
 * Opens the directory named by the first `depth` components of `path`, starting at `startFd`. Returns
 * undefined for depth 0 (the start itself, which the caller owns); otherwise the caller must close it.
 * Each step is relative to the fd of the step before, so swapping a component for a symlink mid-walk
 * only makes the next open fail.
 */
export async function openDirPath(
  startFd: number,
  path: GuestPath,
  depth: number,
  options: WalkOptions = {},
): Promise<OpenDir | undefined> {
  let current: OpenDir | undefined;
  try {
    for (let index = 0; index < depth; index++) {
      const name = path.parts[index]!;
      const shown = componentShown(path, index);
      const fd = current?.fd ?? startFd;
      if (options.create) await mkdirIfMissing(fd, name, shown);
      const next = await openDirAt(fd, name, shown);
      const previous = current;
      current = next;
      await previous?.close();
    }
    const opened = current;
    current = undefined;
    return opened;
  } finally {
    await current?.close();
  }
}

async function mkdirIfMissing(dirFd: number, name: string, shown: string): Promise<void> {
  try {
    await mkdir(at(dirFd, name), 0o777);
  } catch (error) {
    // EEXIST is the common case (the directory is already there); the open that follows checks its type.
    if (errnoOf(error) !== "EEXIST") throw fsError(error, shown);
  }
}

/** Runs `fn` with an fd on the directory `path` names (the root for an empty path). */
export async function withDir<T>(
  rootFd: number,
  path: GuestPath,
  fn: (dirFd: number) => Promise<T>,
  options: WalkOptions = {},
): Promise<T> {
  const dir = await openDirPath(rootFd, path, path.parts.length, options);
  try {
    return await fn(dir?.fd ?? rootFd);
  } finally {
    await dir?.close();
  }
}

/** Runs `fn` with an fd on the parent directory of a non-empty `path`, and the final name in it. */
export async function withParent<T>(
  rootFd: number,
  path: GuestPath,
  fn: (dirFd: number, name: string) => Promise<T>,
): Promise<T> {
  const depth = path.parts.length - 1;
  const name = path.parts[depth];
  if (name === undefined) throw new Error("withParent needs a non-empty path");
  const dir = await openDirPath(rootFd, path, depth);
  try {
    return await fn(dir?.fd ?? rootFd, name);
  } finally {
    await dir?.close();
  }
}
