// What a kind's guest adapter is: the methods its handle object has inside a sandbox. Guest code: it runs in
// sandboxes and is checked with sdk/guest/tsconfig.json (no Node types).

/** Sends one operation on this handle to the kernel; resolves with its result or rejects with a WardenError. */
export type GuestCall = (op: string, args?: unknown) => Promise<unknown>;

export type GuestMethods = Record<string, (...args: never[]) => unknown>;

/** Every handle's own members, whatever its kind. */
export interface HandleBase {
  readonly kind: string;
  readonly rights: readonly string[];
}

/**
 * A kind's handle API inside a JS sandbox: `methods` turns method calls into kernel requests. `Handle` is
 * the type tool authors see (sdk/types.ts reads it from the guest registry); it exists only in types.
 */
export interface GuestAdapter<Kind extends string, Handle extends HandleBase> {
  readonly kind: Kind;
  methods(call: GuestCall): GuestMethods;
  /** Never set: carries the handle's type. */
  readonly handle?: Handle;
}

export function defineGuestAdapter<Handle extends HandleBase>() {
  return <Kind extends string>(adapter: {
    kind: Kind;
    methods(call: GuestCall): GuestMethods;
  }): GuestAdapter<Kind, Handle> => adapter;
}
