// `npm run build:wasm`: assembles the WIT package (scripts/build-wit.ts), then builds every example under
// tools-wasm/examples/ from source into tools-wasm/build/<name>.wasm, skipping an example whose sources, WIT
// and toolchain have not changed.
// JS examples go through componentize-js; WAT examples through wasm-tools (parse, embed the WIT, component new).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { registerHooks } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { componentEmbed, componentNew, parse } from "@bytecodealliance/jco-transpile/wasm-tools";
import { z } from "zod";
import { writeWit } from "./build-wit.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const WIT_DIR = join(ROOT, "tools-wasm", "wit");
export const EXAMPLES_DIR = join(ROOT, "tools-wasm", "examples");
export const BUILD_DIR = join(ROOT, "tools-wasm", "build");

const exampleSchema = z.strictObject({
  /** A world of the warden:tool package (tools-wasm/wit). */
  world: z.string().regex(/^[a-z][a-z0-9-]*$/),
  /** The source file in the example's folder: a .js module or a .wat core module. */
  source: z.string().regex(/^[A-Za-z0-9_.-]+\.(js|wat)$/),
});

/** A package's version, from the package.json above its entry point (its exports hide package.json). */
function versionOf(pkg: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(pkg)));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const meta = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (meta.name === pkg && meta.version) return meta.version;
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the version of ${pkg}`);
    dir = dirname(dir);
  }
}

/** The WIT package as one source text (wasm-tools reads it from memory, never from the filesystem). */
export function witSource(): string {
  return readdirSync(WIT_DIR)
    .filter((f) => f.endsWith(".wit"))
    .sort()
    .map((f) => readFileSync(join(WIT_DIR, f), "utf8"))
    .join("\n");
}

/** A component from a core module in WebAssembly text, for `world` of the WIT (tools-wasm/wit by default). */
export async function componentFromWat(wat: string, world: string, wit = witSource()): Promise<Uint8Array> {
  const core = await parse(wat);
  const embedded = await componentEmbed({ binary: core, witSource: wit, world, stringEncoding: "utf8" });
  return componentNew(embedded);
}

/**
 * componentize-js imports @bytecodealliance/preview2-shim at run time but declares it only as a dev
 * dependency, so npm nests the shim under jco rather than next to componentize-js. Resolves it from jco's
 * copy, which is also the copy whose preopens this script sets.
 */
let hooked = false;
function resolveShim(): void {
  if (hooked) return;
  hooked = true;
  const jco = new URL("../node_modules/@bytecodealliance/jco/package.json", import.meta.url).href;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier.startsWith("@bytecodealliance/preview2-shim"))
        return next(specifier, { ...context, parentURL: jco });
      return next(specifier, context);
    },
  });
}

async function componentFromJs(sourcePath: string, world: string): Promise<Uint8Array> {
  resolveShim();
  // Named through a variable: the shim is jco's dependency, not ours, so its types are not visible here.
  const shim = "@bytecodealliance/preview2-shim/filesystem";
  const { _setPreopens } = (await import(shim)) as {
    _setPreopens: (preopens: Record<string, string>) => void;
  };
  // componentize-js reads the WIT and the source through the shim's WASI filesystem, which preopens nothing now.
  _setPreopens({ "/": "/" });
  const { componentize } = await import("@bytecodealliance/componentize-js");
  const { component } = await componentize({
    sourcePath,
    witPath: WIT_DIR,
    worldName: world,
    // No WASI at all: the component imports only Warden's interfaces (stdio, random, clocks, http would each add WASI imports).
    disableFeatures: ["stdio", "random", "clocks", "http", "fetch-event"],
  });
  return component;
}

export interface Built {
  name: string;
  path: string;
  /** False when the previous build was still current. */
  built: boolean;
  ms: number;
  bytes: number;
}

function fingerprint(dir: string, source: string): string {
  const hash = createHash("sha256");
  hash.update(`jco-transpile ${versionOf("@bytecodealliance/jco-transpile")}\n`);
  if (source.endsWith(".js"))
    hash.update(`componentize-js ${versionOf("@bytecodealliance/componentize-js")}\n`);
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const file of readdirSync(WIT_DIR).sort()) hash.update(file).update(readFileSync(join(WIT_DIR, file)));
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return hash.digest("hex");
}

/** Builds one example (unless its build is current) into tools-wasm/build/<name>.wasm. */
export async function buildExample(name: string, force = false): Promise<Built> {
  const dir = join(EXAMPLES_DIR, name);
  const example = exampleSchema.parse(JSON.parse(readFileSync(join(dir, "example.json"), "utf8")));
  const out = join(BUILD_DIR, `${name}.wasm`);
  const stamp = join(BUILD_DIR, `${name}.sha256`);
  const print = fingerprint(dir, example.source);
  const start = performance.now();
  if (!force && existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === print) {
    return { name, path: out, built: false, ms: 0, bytes: readFileSync(out).length };
  }
  const sourcePath = join(dir, example.source);
  const component = example.source.endsWith(".wat")
    ? await componentFromWat(readFileSync(sourcePath, "utf8"), example.world)
    : await componentFromJs(sourcePath, example.world);
  mkdirSync(BUILD_DIR, { recursive: true });
  // Written beside and renamed into place: a build running at the same time never sees half a component.
  const partial = `${out}.${process.pid}.partial`;
  writeFileSync(partial, component);
  renameSync(partial, out);
  writeFileSync(stamp, print);
  return { name, path: out, built: true, ms: performance.now() - start, bytes: component.length };
}

export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((n) => existsSync(join(EXAMPLES_DIR, n, "example.json")))
    .sort();
}

/** Builds one example in a child process: componentize-js is single-threaded, so examples build side by side. */
function buildInChild(name: string, force: boolean): Promise<Built> {
  const args = [fileURLToPath(import.meta.url), "--only", name, "--json", ...(force ? ["--force"] : [])];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`building ${name} failed:\n${stderr}`));
      else resolve(JSON.parse(stdout) as Built);
    });
  });
}

/** Builds every example that is not current, as many at once as there are CPUs. */
export async function buildExamples(force = false): Promise<Built[]> {
  const queue = exampleNames();
  const built: Built[] = [];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      built.push(await buildInChild(name, force));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(availableParallelism(), 4)) }, worker));
  return built.sort((a, b) => (a.name < b.name ? -1 : 1));
}

function report(b: Built): string {
  const size = `${(b.bytes / 2 ** 20).toFixed(1)} MiB`;
  return b.built
    ? `built ${b.name}.wasm (${size}) in ${(b.ms / 1000).toFixed(1)} s\n`
    : `${b.name}.wasm is up to date (${size})\n`;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  // First, so no example is built against a warden.wit older than the kinds' interfaces.
  if (writeWit()) process.stderr.write("assembled tools-wasm/wit/warden.wit\n");
  const force = argv.includes("--force");
  const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1] : undefined;
  if (only !== undefined) {
    const b = await buildExample(only, force);
    process.stdout.write(argv.includes("--json") ? JSON.stringify(b) : report(b));
  } else {
    for (const b of await buildExamples(force)) process.stdout.write(report(b));
  }
}
