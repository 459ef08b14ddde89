// The clock handle in a WebAssembly component: the `timer` resource of warden:tool/clock (clock.wit). Guest code.
import { defineWitAdapter, unit } from "../wit-kind.ts";

export const clockWit = defineWitAdapter({
  kind: "clock",
  interface: "clock",
  resource: "Timer",
  attenuation: (rights, resolutionMs) => ({ rights, resolutionMs }),
  define: (Base) =>
    class Timer extends Base {
      now() {
        return this.op("now");
      }
      sleep(ms: number) {
        return unit(this.op("sleep", { ms }));
      }
    },
});
