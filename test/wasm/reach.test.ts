// The adversarial reach table (test/adversarial/reach.test.ts) run against the wasm backend: path tricks
// through a component's files capability are refused with CAPABILITY_DENIED and nothing outside is touched.
// The rows are the same as there; they are written as JS tools there, so here each becomes a component call.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime, type Tool, type WardenError } from "../../runtime/index.ts";
import { makeReachTree, PATH_TRICKS, WRITE_TRICKS } from "../support/reach.ts";
import { tempDir } from "../support/tools.ts";
import { BUILD, ensureExamplesBuilt } from "./fixtures.ts";

/** Rows of the reach table that do not apply here, and why; listed so none is dropped silently. */
const NOT_APPLICABLE: Array<{ rows: string; why: string }> = [
  {
    rows: "net: every SSRF row",
    why: "no example component imports warden:tool/net; a component's fetch reaches the same kernel op unchanged (backend.test.ts: allowed and refused by origin), whose resolution and redirect checks the v8 and quickjs tables cover",
  },
];

let base: string;
let root: string;
let outside: string;
let runtime: Runtime;
let reader: Tool;
let writer: Tool;

beforeAll(async () => {
  ensureExamplesBuilt();
  base = tempDir("warden-wasm-reach-");
  ({ root, outside } = makeReachTree(base));
  runtime = createRuntime({ cwd: base, isolation: "in-process" });
  reader = await runtime.loadTool(join(BUILD, "read-file.wasm"), {
    grants: { files: `fs:read,list:${root}` },
  });
  writer = await runtime.loadTool(join(BUILD, "files.wasm"), {
    grants: { files: `fs:read,write,create,delete,list:${root}` },
  });
}, 300_000);

afterAll(async () => {
  await runtime.close();
  rmSync(base, { recursive: true, force: true });
});

async function codeOf(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "done",
    (e: unknown) => (e as WardenError).code,
  );
}

describe("reach on wasm", () => {
  test.each(PATH_TRICKS)("read: $name is denied", async ({ path }) => {
    expect(await codeOf(reader.call({ path }))).toBe("CAPABILITY_DENIED");
  });

  test.each(WRITE_TRICKS)("$name is denied and changes nothing outside", async (trick) => {
    // The `files` example takes the row as its input: op, path, to, and text for writes.
    expect(await codeOf(writer.call({ ...trick, name: undefined, text: "pwned" }))).toBe("CAPABILITY_DENIED");
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("OUTSIDE");
    expect(() => readFileSync(join(outside, "new.txt"))).toThrow();
    expect(() => readFileSync(join(outside, "moved.txt"))).toThrow();
    expect(readFileSync(join(root, "inside.txt"), "utf8")).toBe("inside");
  });

  test("the same grant still does what it allows", async () => {
    expect(await writer.call({ op: "write", path: "made.txt", text: "made here" })).toEqual({
      written: true,
    });
    expect(await reader.call({ path: "made.txt" })).toEqual({ text: "made here" });
    expect(await writer.call({ op: "stat", path: "made.txt" })).toEqual({ type: "file", size: 9 });
  });

  test("a directory swapped for a symlink while the component reads never yields the outside file", async () => {
    const race = join(root, "race");
    mkdirSync(race);
    writeFileSync(join(race, "secret.txt"), "harmless");
    let swapping = true;
    const swapper = (async () => {
      while (swapping) {
        renameSync(race, `${race}.real`);
        symlinkSync(outside, race);
        await new Promise((r) => setImmediate(r));
        rmSync(race);
        renameSync(`${race}.real`, race);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      await reader.call({ path: "race/secret.txt" }).then(
        (out) => seen.add((out as { text: string }).text),
        (e: unknown) => seen.add((e as WardenError).code),
      );
    }
    swapping = false;
    await swapper;
    expect(seen).not.toContain("OUTSIDE");
    expect(seen).toContain("harmless");
  });

  test.skip.each(NOT_APPLICABLE)("$rows: not applicable ($why)", () => {});
});
