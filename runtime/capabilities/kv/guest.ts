// The kv handle inside a JS sandbox: its methods and the type tool authors see. Guest code (no Node types).
import { defineGuestAdapter, type HandleBase } from "../guest-kind.ts";

export interface KvHandle extends HandleBase {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<null>;
  delete(key: string): Promise<boolean>;
  list(prefix?: string, options?: { limit?: number }): Promise<string[]>;
  attenuate(request: { prefix?: string; rights?: string[] }): Promise<KvHandle>;
}

export const kvGuest = defineGuestAdapter<KvHandle>()({
  kind: "kv",
  methods: (call) => ({
    get: (key: string) => call("get", { key }),
    set: (key: string, value: unknown) => call("set", { key, value }),
    delete: (key: string) => call("delete", { key }),
    list: (prefix?: string, options?: { limit?: number }) =>
      call("list", { prefix: prefix ?? "", ...options }),
  }),
});
