// The clock handle inside a JS sandbox: its methods and the type tool authors see. Guest code (no Node types).
import { defineGuestAdapter, type HandleBase } from "../guest-kind.ts";

export interface ClockHandle extends HandleBase {
  /** Milliseconds since the epoch, rounded down to the grant's resolution (100 ms by default). */
  now(): Promise<number>;
  /** Waits; bounded by the tool's wall-time limit. */
  sleep(ms: number): Promise<null>;
  attenuate(request: { resolutionMs?: number; rights?: string[] }): Promise<ClockHandle>;
}

export const clockGuest = defineGuestAdapter<ClockHandle>()({
  kind: "clock",
  methods: (call) => ({
    now: () => call("now"),
    sleep: (ms: number) => call("sleep", { ms }),
  }),
});
