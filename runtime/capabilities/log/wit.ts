// The log handle in a WebAssembly component: the `logger` resource of warden:tool/log (log.wit). Guest code.
import { defineWitAdapter, unit } from "../wit-kind.ts";

export const logWit = defineWitAdapter({
  kind: "log",
  interface: "log",
  resource: "Logger",
  attenuation: (maxBytes) => ({ maxBytes }),
  define: (Base) =>
    class Logger extends Base {
      write(level: string, message: string) {
        return unit(this.op("write", { level, message }));
      }
    },
});
