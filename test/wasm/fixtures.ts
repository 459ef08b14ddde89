// Test components written in WebAssembly text: a describe() and a run() whose behaviour each test picks
// (return this output, report this error, trap, grow memory until refused, loop). Built in memory, in milliseconds.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { componentFromWat, witSource } from "../../scripts/build-wasm.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const BUILD = join(REPO, "tools-wasm", "build");

/**
 * Builds the examples (tools-wasm/build/*.wasm) unless they are current: `npm test` has already built them,
 * and `vitest run test/wasm` alone builds what is missing. A child process, as `npm run build:wasm` runs it.
 */
export function ensureExamplesBuilt(): void {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const result = spawnSync(process.execPath, [join(REPO, "scripts", "build-wasm.ts")], {
    cwd: REPO,
    env,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`npm run build:wasm failed:\n${result.stderr}`);
}

export type RunBehaviour =
  | { ok: string }
  | { err: { code: string; message: string } }
  | "trap"
  | "spin"
  /** Grows memory (16 pages at a time, then 1) until memory.grow refuses, then returns {"pages": N}. */
  | "grow"
  /** The body of run, in WAT: params 0 and 1 are the input's pointer and length; returns the result's pointer. */
  | { wat: string };

const DESCRIBE_AT = 1024;
const OUTPUT_AT = 8192;
const CODE_AT = 6144;
const MESSAGE_AT = 7168;
const HEAP_START = 49152;

function watString(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\${byte.toString(16).padStart(2, "0")}`;
  }
  return `"${out}\\00"`;
}

/** A tool definition as describe() returns it; capabilities and schemas default to none / any object. */
export function definition(name: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    name,
    description: "test component",
    inputSchema: { type: "object" },
    outputSchema: { type: "object" },
    capabilities: {},
    ...overrides,
  });
}

const STRLEN = `
  (func $strlen (param $at i32) (result i32)
    (local $end i32)
    (local.set $end (local.get $at))
    (block $found (loop $scan
      (br_if $found (i32.eqz (i32.load8_u (local.get $end))))
      (local.set $end (i32.add (local.get $end) (i32.const 1)))
      (br $scan)))
    (i32.sub (local.get $end) (local.get $at)))`;

const ITOA = `
  (func $itoa (param $v i32) (param $at i32) (result i32)
    (local $tmp i32) (local $len i32) (local $i i32)
    (local.set $tmp (local.get $v)) (local.set $len (i32.const 1))
    (block $b (loop $l
      (br_if $b (i32.lt_u (local.get $tmp) (i32.const 10)))
      (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (br $l)))
    (local.set $i (i32.add (local.get $at) (local.get $len)))
    (local.set $tmp (local.get $v))
    (loop $w
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (local.get $i) (i32.add (i32.const 48) (i32.rem_u (local.get $tmp) (i32.const 10))))
      (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
      (br_if $w (i32.gt_u (local.get $i) (local.get $at))))
    (i32.add (local.get $at) (local.get $len)))`;

function runBody(behaviour: RunBehaviour): string {
  if (behaviour === "trap") return "unreachable";
  if (behaviour === "spin") return "(loop $forever (br $forever)) unreachable";
  if (behaviour === "grow") {
    return `
    (local $end i32)
    (block $big (loop $more
      (br_if $big (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
      (br $more)))
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $more)))
    (local.set $end (call $itoa (memory.size) (i32.add (i32.const ${OUTPUT_AT}) (call $strlen (i32.const ${OUTPUT_AT})))))
    (i32.store8 (local.get $end) (i32.const 125))
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.store (i32.const 36) (i32.const ${OUTPUT_AT}))
    (i32.store (i32.const 40) (i32.sub (i32.add (local.get $end) (i32.const 1)) (i32.const ${OUTPUT_AT})))
    (i32.const 32)`;
  }
  if ("wat" in behaviour) return behaviour.wat;
  if ("ok" in behaviour) {
    return `
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.store (i32.const 36) (i32.const ${OUTPUT_AT}))
    (i32.store (i32.const 40) (call $strlen (i32.const ${OUTPUT_AT})))
    (i32.const 32)`;
  }
  return `
    (i32.store8 (i32.const 32) (i32.const 1))
    (i32.store (i32.const 36) (i32.const ${CODE_AT}))
    (i32.store (i32.const 40) (call $strlen (i32.const ${CODE_AT})))
    (i32.store (i32.const 44) (i32.const ${MESSAGE_AT}))
    (i32.store (i32.const 48) (call $strlen (i32.const ${MESSAGE_AT})))
    (i32.const 32)`;
}

/** The WAT of a core module for world `bare` (plus `extra` imports and functions). */
export function toolWat(describeJson: string, behaviour: RunBehaviour, extra = ""): string {
  const output =
    typeof behaviour === "object" && "ok" in behaviour
      ? behaviour.ok
      : behaviour === "grow"
        ? '{"pages":'
        : "";
  const error =
    typeof behaviour === "object" && "err" in behaviour ? behaviour.err : { code: "", message: "" };
  if (output.length > 40_000 || describeJson.length > 5000) throw new Error("fixture strings too long");
  return `(module
  ${extra}
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const ${HEAP_START}))
  (data (i32.const ${DESCRIBE_AT}) ${watString(describeJson)})
  (data (i32.const ${CODE_AT}) ${watString(error.code)})
  (data (i32.const ${MESSAGE_AT}) ${watString(error.message)})
  (data (i32.const ${OUTPUT_AT}) ${watString(output)})
  ${STRLEN}
  ${ITOA}
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (block $fits
      (br_if $fits (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
      (br_if $fits (i32.ne (memory.grow (i32.add (i32.shr_u (global.get $heap) (i32.const 16)) (i32.const 1))) (i32.const -1)))
      unreachable)
    (local.get $ptr))
  (func (export "warden:tool/tool@0.1.0#describe") (result i32)
    (i32.store (i32.const 16) (i32.const ${DESCRIBE_AT}))
    (i32.store (i32.const 20) (call $strlen (i32.const ${DESCRIBE_AT})))
    (i32.const 16))
  (func (export "warden:tool/tool@0.1.0#run") (param i32 i32) (result i32)
    ${runBody(behaviour)})
)`;
}

let counter = 0;

/** Builds a component from WAT into `dir` and returns its path (a .wasm file, so the wasm backend runs it). */
export async function writeComponent(
  dir: string,
  wat: string,
  options: { world?: string; wit?: string } = {},
): Promise<string> {
  const file = join(dir, `component-${++counter}.wasm`);
  writeFileSync(file, await componentFromWat(wat, options.world ?? "bare", options.wit ?? witSource()));
  return file;
}

/** The warden:tool package plus one more world of it, for components that import what they should not. */
export function witWithWorld(world: string): string {
  return `${witSource()}\n${world}\n`;
}
