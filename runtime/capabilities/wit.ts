// The WIT registry: every kind's resource for WebAssembly components, which the wasm runner gives jco's glue
// (runtime/isolates/wasm/guest/runner.ts), and whose interfaces make tools-wasm/wit/warden.wit
// (scripts/build-wit.ts). Guest code: no Node types. A kind components cannot use has no line here.
import { clockWit } from "./clock/wit.ts";
import { fsWit } from "./fs/wit.ts";
import { kvWit } from "./kv/wit.ts";
import { logWit } from "./log/wit.ts";
import { modelWit } from "./model/wit.ts";
import { netWit } from "./net/wit.ts";
import type { WitAdapter } from "./wit-kind.ts";

export const WIT_ADAPTERS: readonly WitAdapter[] = [fsWit, netWit, kvWit, clockWit, logWit, modelWit];
