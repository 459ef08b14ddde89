// The net handle in a WebAssembly component: the `client` resource of warden:tool/net (net.wit). Guest code.
import { defineWitAdapter, mapped } from "../wit-kind.ts";

export const netWit = defineWitAdapter({
  kind: "net",
  interface: "net",
  resource: "Client",
  attenuation: (rights, origins) => ({ rights, origins }),
  define: (Base) =>
    class Client extends Base {
      fetch(req: { url: string; method: string; headers: Array<[string, string]>; body?: Uint8Array }) {
        // fromEntries defines own properties: a header named "__proto__" stays a header.
        const headers = Object.fromEntries(req.headers) as Record<string, string>;
        return mapped(
          this.op("fetch", { url: req.url, method: req.method, headers, body: req.body }),
          (r) => {
            const res = r as {
              status: number;
              statusText: string;
              url: string;
              headers: Record<string, string>;
              body: Uint8Array;
            };
            return {
              status: res.status,
              statusText: res.statusText,
              url: res.url,
              headers: Object.entries(res.headers),
              body: res.body,
            };
          },
        );
      }
    },
});
