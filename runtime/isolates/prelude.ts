// Loads dist/prelude.js, the guest runtime every backend starts its sandboxes from.
import { readFileSync } from "node:fs";
import { WardenError } from "../errors.ts";

let cached: string | undefined;

export function preludeSource(): string {
  if (cached === undefined) {
    try {
      cached = readFileSync(new URL("../../dist/prelude.js", import.meta.url), "utf8");
    } catch {
      throw new WardenError(
        "INTERNAL",
        "dist/prelude.js is missing: run `npm run build` (npm ci runs it too)",
      );
    }
  }
  return cached;
}

/** The source of the `warden/sdk` module as a sandbox sees it; also served for "zod". */
export const SDK_MODULE = `const s = globalThis.__warden.sdk;
export const defineTool = s.defineTool;
export const defineAgent = s.defineAgent;
export const z = s.z;
export const WardenError = s.WardenError;
export default s;`;

export const ZOD_MODULE = `const z = globalThis.__warden.sdk.z;
export { z };
export default z;`;

/** Module specifiers a tool may import; everything else must be bundled into the tool file. */
export const ALLOWED_IMPORTS: ReadonlyMap<string, string> = new Map([
  ["warden/sdk", SDK_MODULE],
  ["zod", ZOD_MODULE],
]);
