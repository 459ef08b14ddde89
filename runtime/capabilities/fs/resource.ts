// Owns one handle's open root directory, and keeps its fd number valid while any call is using it.
import type { FileHandle } from "node:fs/promises";
import { WardenError } from "../../errors.ts";

/**
 * Calls name the root by fd number inside /proc/self/fd paths. If the fd were closed mid-call, the number
 * could be reused by an unrelated open and the call would land in another directory; so close() waits
 * until every call that started has finished, and no call starts once close() has begun.
 */
export class RootDir {
  readonly #handle: FileHandle;
  #active = 0;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(handle: FileHandle) {
    this.#handle = handle;
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
