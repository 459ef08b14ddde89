// The host's half of loading a component: checks its imports and exports and transpiles it (cached), then
// packs glue and core modules as text. A sandbox, in a cell or not, gets them ready to bound and run.
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { capabilityTypesOf, componentImports, TOOL_EXPORT } from "./imports.ts";
import { transpile } from "./transpile.ts";

export interface PreparedComponent {
  /** The capability types the component imports (each must be declared, and so granted). */
  types: string[];
  glue: string;
  /** Core modules by the name the glue asks for. */
  modules: Map<string, Uint8Array>;
}

const FORMAT = "warden-component/1";
/** Largest component accepted: it is parsed and transpiled on the host (a SpiderMonkey one is ~12 MiB). */
const MAX_COMPONENT_BYTES = 64 << 20;

const packedSchema = z.strictObject({
  format: z.literal(FORMAT),
  types: z.array(z.string()),
  glue: z.string(),
  modules: z.array(z.tuple([z.string(), z.string()])),
});

/**
 * Everything the component asks for is checked here, before any sandbox exists: only Warden's interfaces
 * may be imported, and warden:tool/tool must be exported. Returns the SandboxModule source for the wasm backend.
 */
export async function prepareComponent(bytes: Uint8Array): Promise<string> {
  if (bytes.length > MAX_COMPONENT_BYTES) {
    throw new WardenError(
      "LOAD_ERROR",
      `the component is ${Math.ceil(bytes.length / 2 ** 20)} MiB; Warden loads components of up to ${MAX_COMPONENT_BYTES / 2 ** 20} MiB`,
    );
  }
  const types = capabilityTypesOf(componentImports(bytes));
  const transpiled = await transpile(bytes);
  if (!transpiled.exports.includes(TOOL_EXPORT)) {
    throw new WardenError(
      "LOAD_ERROR",
      `the component does not export ${TOOL_EXPORT} (describe and run); build it against tools-wasm/wit`,
    );
  }
  return JSON.stringify({
    format: FORMAT,
    types: [...types],
    glue: transpiled.glue,
    modules: [...transpiled.modules].map(([name, module]) => [name, Buffer.from(module).toString("base64")]),
  });
}

export function unpackComponent(source: string, filename: string): PreparedComponent {
  let packed: z.infer<typeof packedSchema> | undefined;
  if (source.startsWith(`{"format":"${FORMAT}"`)) packed = packedSchema.safeParse(JSON.parse(source)).data;
  if (!packed) {
    throw new WardenError(
      "LOAD_ERROR",
      `the wasm backend runs WebAssembly components (.wasm files); run ${filename} with --backend v8`,
    );
  }
  return {
    types: packed.types,
    glue: packed.glue,
    modules: new Map(
      packed.modules.map(([name, base64]) => [name, new Uint8Array(Buffer.from(base64, "base64"))]),
    ),
  };
}
