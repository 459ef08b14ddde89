// Builds dist/prelude.js, the script every sandbox starts from: the guest runtime (sdk/guest) with zod bundled in,
// and dist/wasm-runner.js, the wasm backend's runner.
// With --if-stale it does nothing when the output is newer than every source it is built from.
// It also writes the QuickJS backend's memory image of that runtime, dist/quickjs-image.bin.
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "prelude.js");
const sources = [
  join(root, "sdk", "guest"),
  join(root, "runtime", "protocol"),
  // Each kind's guest adapter (runtime/capabilities/<kind>/guest.ts) is bundled in.
  join(root, "runtime", "capabilities"),
  join(root, "package-lock.json"),
];

function newest(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function stale(): boolean {
  try {
    return statSync(out).mtimeMs < Math.max(...sources.map(newest));
  } catch {
    return true;
  }
}

if (!process.argv.includes("--if-stale") || stale()) {
  mkdirSync(dirname(out), { recursive: true });
  // URL and URLSearchParams, built apart and carried as text: the prelude compiles them on first use
  // (sdk/guest/globals/url.ts).
  const url = await build({
    entryPoints: [join(root, "sdk", "guest", "globals", "url-impl.ts")],
    bundle: true,
    format: "iife",
    globalName: "__wardenUrl",
    platform: "neutral",
    // whatwg-url is CommonJS with a "main" field only.
    mainFields: ["module", "main"],
    // whatwg-url's domain-to-ASCII step, without tr46's 210 KiB Unicode table (sdk/guest/globals/idna.ts).
    alias: { tr46: join(root, "sdk", "guest", "globals", "idna.ts") },
    target: "es2023",
    minify: true,
    legalComments: "none",
    write: false,
    logLevel: "warning",
  });
  await build({
    entryPoints: [join(root, "sdk", "guest", "prelude.ts")],
    bundle: true,
    format: "iife",
    platform: "neutral",
    target: "es2023",
    minify: true,
    legalComments: "none",
    define: { __WARDEN_URL_SOURCE__: JSON.stringify(url.outputFiles[0]!.text) },
    outfile: out,
    logLevel: "warning",
  });
  console.error(`built ${out.slice(root.length + 1)}`);
}

// The wasm backend's runner: sandbox code that imports the project's codec and the WIT adapters, bundled as one module.
const runner = join(root, "dist", "wasm-runner.js");
const runnerSources = [
  join(root, "runtime", "isolates", "wasm", "guest"),
  join(root, "runtime", "protocol"),
  // Each kind's WIT adapter (runtime/capabilities/<kind>/wit.ts) is bundled in.
  join(root, "runtime", "capabilities"),
];
const runnerStale = (() => {
  try {
    return statSync(runner).mtimeMs < Math.max(...runnerSources.map(newest));
  } catch {
    return true;
  }
})();
if (!process.argv.includes("--if-stale") || runnerStale) {
  await build({
    entryPoints: [join(root, "runtime", "isolates", "wasm", "guest", "runner.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    legalComments: "none",
    outfile: runner,
    logLevel: "warning",
  });
  console.error(`built ${runner.slice(root.length + 1)}`);
}

// The QuickJS backend's memory image of the guest runtime (runtime/isolates/quickjs/image.ts), built from
// the prelude above; without it each process evaluates the prelude in QuickJS itself, taking about a second.
const image = join(root, "dist", "quickjs-image.bin");
const imageStale = (() => {
  try {
    return statSync(image).mtimeMs < statSync(out).mtimeMs;
  } catch {
    return true;
  }
})();
if (!process.argv.includes("--if-stale") || imageStale) {
  const { writeImageFile } = await import("../runtime/isolates/quickjs/image.ts");
  const bytes = await writeImageFile();
  console.error(`built ${image.slice(root.length + 1)} (${Math.round(bytes / 1024)} KiB)`);
}
