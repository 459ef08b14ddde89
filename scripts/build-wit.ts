// `npm run build:wit` (also run by `npm run build:wasm`): assembles tools-wasm/wit/warden.wit, the WIT package
// components are built against, from the wasm backend's part (runtime/isolates/wasm/package.wit) and each
// kind's interface (runtime/capabilities/<kind>/<kind>.wit), for every kind in the WIT registry.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WIT_ADAPTERS } from "../runtime/capabilities/wit.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const WIT_FILE = join(ROOT, "tools-wasm", "wit", "warden.wit");
const PACKAGE = join(ROOT, "runtime", "isolates", "wasm", "package.wit");
/** The line of package.wit the kinds' interfaces take the place of. */
const KINDS_MARK = /^\/\/ <kinds>:.*\n/m;

const HEADER = `// Assembled by scripts/build-wit.ts from runtime/isolates/wasm/package.wit and each kind's
// runtime/capabilities/<kind>/<kind>.wit: edit those, then run \`npm run build:wit\`.
`;

/** The WIT resource name of a glue class name: Dir -> dir, KeyStore -> key-store. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c, i: number) => `${i ? "-" : ""}${c.toLowerCase()}`);
}

/** A kind's interface, checked to declare what its adapter says (runtime/capabilities/<kind>/wit.ts). */
function kindInterface(kind: string, iface: string, resource: string): string {
  const file = join(ROOT, "runtime", "capabilities", kind, `${kind}.wit`);
  const text = readFileSync(file, "utf8").trimEnd();
  const declares = new RegExp(`^interface ${iface} \\{[\\s\\S]*?^ {2}resource ${kebab(resource)} \\{`, "m");
  if (!declares.test(text)) {
    throw new Error(
      `${file} must declare interface ${iface} with resource ${kebab(resource)} (its wit.ts says so)`,
    );
  }
  return text;
}

/** The whole package, as warden.wit should hold it. */
export function assembleWit(): string {
  // package.wit's own opening comment (plain `//` lines, not `///` docs) says what that file is: not copied.
  const base = readFileSync(PACKAGE, "utf8").replace(/^(\/\/(?!\/).*\n)+/, "");
  const mark = KINDS_MARK.exec(base);
  if (!mark) throw new Error(`${PACKAGE} has no "// <kinds>:" line to put the kinds' interfaces in place of`);
  const kinds = WIT_ADAPTERS.map((a) => `${kindInterface(a.kind, a.interface, a.resource)}\n`).join("\n");
  return HEADER + base.slice(0, mark.index) + kinds + base.slice(mark.index + mark[0].length);
}

/** Writes warden.wit if it differs (an unchanged file keeps its time, so the examples' builds stay current). */
export function writeWit(): boolean {
  const text = assembleWit();
  let old: string | undefined;
  try {
    old = readFileSync(WIT_FILE, "utf8");
  } catch {
    old = undefined;
  }
  if (old === text) return false;
  const partial = `${WIT_FILE}.${process.pid}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, WIT_FILE);
  return true;
}

if (import.meta.main) {
  process.stdout.write(
    writeWit() ? "assembled tools-wasm/wit/warden.wit\n" : "tools-wasm/wit/warden.wit is up to date\n",
  );
}
