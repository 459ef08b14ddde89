// Owns one handle's open root directory, and keeps its fd number valid while any call is using it.
import { fstat } from "node:fs";
import { readFile, statfs } from "node:fs/promises";
import { promisify } from "node:util";
import { WardenError } from "../../errors.ts";

/** An open directory: a FileHandle or the walk's own OpenDir. */
export interface DirHandle {
  readonly fd: number;
  close(): Promise<void>;
}

/**
 * Filesystems whose data and inodes live on this machine (a local block device or memory), by statfs magic:
 * ext2/3/4, xfs, btrfs, tmpfs, ramfs, overlayfs, f2fs, zfs. A call on an open fd of one of them is bounded
 * by local I/O; nothing on them waits on a server or a daemon that could hang (NFS, SMB, FUSE are absent).
 */
const LOCAL_FILESYSTEMS = new Set([
  0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x858458f6, 0x794c7630, 0xf2f52010, 0x2fc12fc1,
]);

/**
 * Whether any mount point lies strictly below `root` (in this process's mount namespace). mountinfo's
 * fifth field is the mount point, with space, tab, newline and backslash written as octal escapes.
 */
async function mountedBelow(root: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile("/proc/self/mountinfo", "utf8");
  } catch {
    return true; // cannot tell: assume the worst, and stay asynchronous
  }
  const prefix = root === "/" ? "/" : `${root}/`;
  for (const line of text.split("\n")) {
    const field = line.split(" ")[4];
    if (field === undefined) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    );
    if (point !== root && point.startsWith(prefix)) return true;
  }
  return false;
}

/**
 * Calls name the root by fd number inside /proc/self/fd paths. If the fd were closed mid-call, the number
 * could be reused by an unrelated open and the call would land in another directory; so close() waits
 * until every call that started has finished, and no call starts once close() has begun.
 */
export class RootDir {
  readonly #handle: DirHandle;
  #active = 0;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  /**
   * The root's filesystem is local (LOCAL_FILESYSTEMS) and nothing is mounted below the root when the
   * handle opened, so every file the walk reaches is on it: small reads may use synchronous calls on the
   * already-open fd (read.ts says which and why).
   */
  readonly local: boolean;
  /** The root's device: a file with another `dev` is on a filesystem mounted below the root. */
  readonly dev: number;

  private constructor(handle: DirHandle, local: boolean, dev: number) {
    this.#handle = handle;
    this.local = local;
    this.dev = dev;
  }

  /**
   * Takes ownership of an open directory, `root` being its host path; learns, once per handle, which
   * filesystem it is on and whether anything is mounted below it.
   */
  static async of(handle: DirHandle, root: string): Promise<RootDir> {
    try {
      const fs = await statfs(`/proc/self/fd/${handle.fd}`);
      const { dev } = await promisify(fstat)(handle.fd);
      const local = LOCAL_FILESYSTEMS.has(fs.type) && !(await mountedBelow(root));
      return new RootDir(handle, local, dev);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async use<T>(fn: (rootFd: number) => Promise<T>): Promise<T> {
    if (this.#closing) throw new WardenError("CAPABILITY_DENIED", "the handle has been revoked");
    this.#active++;
    try {
      return await fn(this.#handle.fd);
    } finally {
      this.#active--;
      if (this.#active === 0) this.#drained?.();
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#drainThenClose();
    return this.#closing;
  }

  async #drainThenClose(): Promise<void> {
    if (this.#active > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    await this.#handle.close();
  }
}
