// Turns a component into JS glue plus core modules with jco-transpile, cached by content hash (in memory
// and in a private directory under the OS temp dir), so a component is transpiled once, not once per load.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import { ownModule } from "../../own-files.ts";
import type { WorkerReply } from "./transpile-worker.ts";

/** How long jco may take on one component (a 12 MiB SpiderMonkey component takes about a second). */
const TRANSPILE_MS = 60_000;

export interface Transpiled {
  /** The glue, an ES module exporting `instantiate(getCoreModule, imports, instantiateCore)`. */
  glue: string;
  /** Core modules, by the name the glue asks getCoreModule for. */
  modules: Map<string, Uint8Array>;
  /** The component's exports as the glue exposes them (`warden:tool/tool@0.1.0`, ...). */
  exports: string[];
}

const manifestSchema = z.strictObject({
  modules: z.array(z.string().regex(/^[a-z0-9.]+$/)),
  exports: z.array(z.string()),
});

let version: string | undefined;
/** Part of the cache key: another jco may transpile differently. Read beside its entry point (exports hide package.json). */
function jcoVersion(): string {
  const entry = fileURLToPath(import.meta.resolve("@bytecodealliance/jco-transpile"));
  version ??= (
    JSON.parse(readFileSync(join(dirname(entry), "../package.json"), "utf8")) as { version: string }
  ).version;
  return version;
}
/** Transpiled components kept in memory (each ~12 MiB for a SpiderMonkey one); the disk cache holds the rest. */
const MEMORY_ENTRIES = 4;
const memory = new Map<string, Transpiled>();

export async function transpile(bytes: Uint8Array): Promise<Transpiled> {
  const key = createHash("sha256").update(`jco-transpile ${jcoVersion()}\n`).update(bytes).digest("hex");
  const cached = memory.get(key) ?? readDisk(key);
  if (cached) return remember(key, cached);
  const result = await inWorker(bytes);
  const decoder = new TextDecoder();
  const modules = new Map<string, Uint8Array>();
  let glue: string | undefined;
  for (const [name, content] of Object.entries(result.files ?? {})) {
    if (name.endsWith(".wasm")) modules.set(name, content);
    else if (name === "tool.js") glue = decoder.decode(content);
  }
  if (glue === undefined) throw new WardenError("INTERNAL", "jco produced no glue module");
  const transpiled = { glue, modules, exports: result.exports ?? [] };
  writeDisk(key, transpiled);
  return remember(key, transpiled);
}

/**
 * Runs jco in a worker thread: the host's event loop stays free while it works, and a component that keeps
 * it busy too long is refused. (Its memory is the process's; prepare.ts caps the component's size.)
 */
function inWorker(bytes: Uint8Array): Promise<WorkerReply & { ok: true }> {
  const worker = new Worker(ownModule(import.meta.url, "./transpile-worker.ts"), { workerData: bytes });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(
        new WardenError(
          "LOAD_ERROR",
          `jco took longer than ${TRANSPILE_MS / 1000} s to transpile the component; Warden refuses it`,
        ),
      );
    }, TRANSPILE_MS);
    worker.once("message", (reply: WorkerReply) => {
      clearTimeout(timer);
      void worker.terminate();
      if (reply.ok) resolve(reply as WorkerReply & { ok: true });
      else reject(new WardenError("LOAD_ERROR", `jco could not transpile the component: ${reply.error}`));
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      reject(
        new WardenError(
          "LOAD_ERROR",
          `jco could not transpile the component: ${error.message.split("\n")[0]}`,
        ),
      );
    });
  });
}

function remember(key: string, value: Transpiled): Transpiled {
  memory.delete(key);
  memory.set(key, value);
  for (const old of memory.keys()) {
    if (memory.size <= MEMORY_ENTRIES) break;
    memory.delete(old);
  }
  return value;
}

/**
 * A directory only this user can write. Another user who could write it could plant glue (which would still
 * run inside the sandbox, and whose core modules are bounded again at every load); refused all the same.
 */
function cacheDir(): string | undefined {
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `warden-wasm-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    // A read-only or full temp dir only costs the cache; the component is transpiled in memory instead.
    if (UNWRITABLE.has((error as NodeJS.ErrnoException).code ?? "")) return undefined;
    throw error;
  }
  const stats = statSync(dir);
  return stats.isDirectory() && stats.uid === uid && (stats.mode & 0o077) === 0 ? dir : undefined;
}

const UNWRITABLE = new Set(["EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "ENOTDIR"]);

function readDisk(key: string): Transpiled | undefined {
  const base = cacheDir();
  if (!base) return undefined;
  const dir = join(base, key);
  let manifest: z.infer<typeof manifestSchema>;
  try {
    manifest = manifestSchema.parse(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if (!(error instanceof SyntaxError || error instanceof z.ZodError)) throw error;
    // A damaged manifest: transpile again and replace the entry.
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const modules = new Map<string, Uint8Array>();
  for (const name of manifest.modules) modules.set(name, readFileSync(join(dir, name)));
  return { glue: readFileSync(join(dir, "tool.js"), "utf8"), modules, exports: manifest.exports };
}

function writeDisk(key: string, value: Transpiled): void {
  const base = cacheDir();
  if (!base) return;
  const staging = join(base, `${key}.${process.pid}.${Date.now()}`);
  try {
    mkdirSync(staging, { mode: 0o700 });
    writeFileSync(join(staging, "tool.js"), value.glue);
    for (const [name, bytes] of value.modules) writeFileSync(join(staging, name), bytes);
    // The manifest is written last: an entry without one is incomplete and never read.
    writeFileSync(
      join(staging, "manifest.json"),
      JSON.stringify({ modules: [...value.modules.keys()], exports: value.exports }),
    );
    renameSync(staging, join(base, key));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code ?? "";
    // Another process cached the same component first (its entry is as good as ours), or the disk is full.
    if (code !== "ENOTEMPTY" && code !== "EEXIST" && !UNWRITABLE.has(code)) throw error;
  }
}
