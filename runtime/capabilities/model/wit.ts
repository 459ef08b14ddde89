// The model handle in a WebAssembly component: the `model` resource of warden:tool/model (model.wit). Guest code.
import { defineWitAdapter, mapped, type WitResult } from "../wit-kind.ts";

/** The WIT `narrowing` record as jco hands it over. */
interface Narrowing {
  models?: string[];
  maxTokensPerCall?: number;
  totalTokens?: bigint;
  totalCost?: number;
  requestsPerMinute?: number;
  params?: string[];
}

export const modelWit = defineWitAdapter({
  kind: "model",
  interface: "model",
  resource: "Model",
  attenuation: (rights, narrowing) => {
    const { totalTokens, ...rest } = (narrowing ?? {}) as Narrowing;
    // A u64 arrives as a BigInt; the kernel's schema bounds it (past 2^53 it is no longer exact, and is refused).
    return { rights, ...rest, totalTokens: totalTokens === undefined ? undefined : Number(totalTokens) };
  },
  define: (Base) =>
    class Model extends Base {
      complete(requestJson: string): WitResult {
        let request: unknown;
        try {
          request = JSON.parse(requestJson);
        } catch {
          return {
            tag: "err",
            val: { code: "INVALID_ARGUMENT", message: "a model request is JSON text; this is not JSON" },
          };
        }
        return mapped(this.op("complete", request), (completion) => JSON.stringify(completion));
      }
    },
});
