// What a kind's WIT adapter is: the resource class a WebAssembly component's glue gets for the kind's interface.
// Guest code: it runs in wasm-backend sandboxes (bundled into dist/wasm-runner.js) and is checked with
// sdk/guest/tsconfig.json (no Node types).

/** A WIT `result<T, error-record>` as jco's glue takes it from an import. */
export type WitResult = { tag: "ok"; val: unknown } | { tag: "err"; val: { code: string; message: string } };

/** What every resource instance can do: send one operation on its own descriptor, answered synchronously. */
export interface WitHandle {
  op(op: string, args?: unknown): WitResult;
}

/**
 * The runner's base class for a kind's resource: it holds the descriptor and gives `op`, the static
 * `granted(name)` and `attenuate(...)`; a kind's class adds only its own methods.
 */
export type WitBase = new () => WitHandle;

/** A kind's handle API in a component: `warden:tool/<interface>`, whose resource the glue imports as `resource`. */
export interface WitAdapter {
  /** The capability type (the host registry's name). */
  readonly kind: string;
  /** The WIT interface, declared in runtime/capabilities/<kind>/<kind>.wit. */
  readonly interface: string;
  /** The resource's class name as jco's glue imports it (PascalCase of the WIT resource: `Dir` for `dir`). */
  readonly resource: string;
  /** The WIT `attenuate` method's arguments, in order, as the kernel's narrow request (undefined fields dropped). */
  attenuation(...args: unknown[]): Record<string, unknown>;
  /** The resource class: `Base` with the kind's methods, each turning a WIT call into one operation. */
  define(Base: WitBase): WitBase;
}

export function defineWitAdapter(adapter: WitAdapter): WitAdapter {
  return adapter;
}

/** An ok result's value mapped into the WIT type the interface declares; an error passes through. */
export function mapped(result: WitResult, map: (value: unknown) => unknown): WitResult {
  return result.tag === "ok" ? { tag: "ok", val: map(result.val) } : result;
}

/** For a WIT `result<_, error-record>`: an ok result carries nothing. */
export const unit = (result: WitResult): WitResult => mapped(result, () => undefined);
