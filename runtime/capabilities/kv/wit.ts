// The kv handle in a WebAssembly component: the `store` resource of warden:tool/kv (kv.wit). Guest code.
import { defineWitAdapter, mapped, unit, type WitResult } from "../wit-kind.ts";

export const kvWit = defineWitAdapter({
  kind: "kv",
  interface: "kv",
  resource: "Store",
  attenuation: (rights, prefix) => ({ rights, prefix }),
  define: (Base) =>
    class Store extends Base {
      get(key: string) {
        return mapped(this.op("get", { key }), (value) =>
          value === null ? undefined : JSON.stringify(value),
        );
      }
      set(key: string, valueJson: string): WitResult {
        let value: unknown;
        try {
          value = JSON.parse(valueJson);
        } catch {
          return {
            tag: "err",
            val: { code: "INVALID_ARGUMENT", message: "kv values are JSON text; this is not JSON" },
          };
        }
        return unit(this.op("set", { key, value }));
      }
      delete(key: string) {
        return this.op("delete", { key });
      }
      list(prefix: string, limit: number) {
        return this.op("list", { prefix, limit });
      }
    },
});
