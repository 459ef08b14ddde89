// Handles and per-sandbox handle tables: what a sandbox can name, and the derivation tree revocation walks.
import type { CapabilityKind, Grant } from "./capabilities/types.ts";
import { WardenError } from "./errors.ts";

let nextHandleId = 1;

/** One capability held by one sandbox. Only the kernel holds these objects; guests see small integers. */
export class Handle {
  /** Kernel-wide id, for the audit log. Never shown to a guest as a way to name the handle. */
  readonly id: string;
  readonly kind: CapabilityKind;
  readonly grant: Grant<unknown>;
  readonly resource: unknown;
  /** The name the holder knows it by ("files"): used in messages to the holder. */
  readonly name: string;
  readonly parent: Handle | undefined;
  readonly children = new Set<Handle>();
  /** Aborted on revocation, so in-flight operations on this handle stop too. */
  private readonly controller = new AbortController();
  private closed = false;

  constructor(kind: CapabilityKind, grant: Grant<unknown>, resource: unknown, name: string, parent?: Handle) {
    this.id = `h${nextHandleId++}`;
    this.kind = kind;
    this.grant = grant;
    this.resource = resource;
    this.name = name;
    this.parent = parent;
    parent?.children.add(this);
  }

  get revoked(): boolean {
    return this.controller.signal.aborted;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Revokes this handle and everything derived from it, depth first; returns how many were revoked. */
  async revoke(): Promise<number> {
    let count = 0;
    for (const child of this.children) count += await child.revoke();
    if (!this.revoked) {
      this.controller.abort(new WardenError("CAPABILITY_DENIED", `handle "${this.name}" has been revoked`));
      count++;
    }
    if (!this.closed) {
      this.closed = true;
      await this.kind.close(this.resource);
    }
    this.parent?.children.delete(this);
    return count;
  }
}

/**
 * A sandbox's table of handles, like a file-descriptor table. Descriptors are never reused, so a stale
 * descriptor can never come to name a different handle.
 */
export class HandleTable {
  private readonly slots = new Map<number, Handle>();
  private next = 3;

  install(handle: Handle): number {
    const fd = this.next++;
    this.slots.set(fd, handle);
    return fd;
  }

  get(fd: number): Handle | undefined {
    return this.slots.get(fd);
  }

  entries(): IterableIterator<[number, Handle]> {
    return this.slots.entries();
  }

  /** Drops revoked handles' slots; the descriptors stay retired. */
  prune(): void {
    for (const [fd, handle] of this.slots) if (handle.revoked) this.slots.delete(fd);
  }

  get size(): number {
    return this.slots.size;
  }
}
