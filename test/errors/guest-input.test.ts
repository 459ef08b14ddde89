// What a guest or a caller can send gets a coded error, never INTERNAL, on every engine in the kernel's process
// and in a cell: URLs that do not parse, JSON nested past the stated bound (input, handle arguments, output),
// and a handle used after the host revoked it. Each refused call is audited.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { MAX_JSON_DEPTH } from "../../runtime/protocol/depth.ts";
import { failure } from "../support/failure.ts";
import { ENGINES, tempDir, writeTool } from "../support/tools.ts";

/** Each engine in the kernel's process and in a cell: the channel differs (direct call, or frames over a pipe). */
const PLACES = ENGINES.flatMap((e) => [`${e}:in-process`, `${e}:cell`]);

let runtime: Runtime;
let dir: string;
let data: string;

beforeAll(() => {
  dir = tempDir("warden-guest-input-");
  data = join(dir, "data");
  mkdirSync(data);
  writeFileSync(join(data, "a.txt"), "alpha");
  runtime = createRuntime({ cwd: dir, lookup: async () => [{ address: "93.184.215.14", family: 4 }] });
});

afterAll(async () => {
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An array nested `depth` levels deep, as a value (built without recursion). */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function lastCall(tool: string, op: string) {
  return runtime.auditRecords.findLast((r) => r.tool === tool && r.op === op);
}

describe.each(PLACES)("%s", (backend) => {
  test("fetch of a relative URL or of no URL is INVALID_ARGUMENT, audited", async () => {
    const path = writeTool(dir, {
      capabilities: { web: { type: "net", rights: ["GET"] } },
      run: `try { await caps.web.fetch(input.url); return "fetched"; }
            catch (e) { return { code: e.code, message: e.message }; }`,
    });
    const tool = await runtime.loadTool(path, { grants: { web: "net:GET:https://example.com" }, backend });
    for (const url of ["/data.json", "not a url"]) {
      const seen = (await tool.call({ url })) as { code: string; message: string };
      expect(seen.code).toBe("INVALID_ARGUMENT");
      expect(seen.message).toContain("must be an absolute URL");
      expect(lastCall(tool.name, "fetch")).toMatchObject({ decision: "error", code: "INVALID_ARGUMENT" });
    }
    await tool.dispose();
  });

  test(`tool input nested 5,000 deep is INVALID_INPUT, audited; ${MAX_JSON_DEPTH} levels still run`, async () => {
    const path = writeTool(dir, { run: "return 'ran';" });
    const tool = await runtime.loadTool(path, { backend });
    const error = await failure(tool.call(nested(5000)));
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.message).toBe(
      `the input is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`,
    );
    expect(lastCall(tool.name, "run")).toMatchObject({ decision: "error", code: "INVALID_INPUT" });
    expect(await tool.call(nested(MAX_JSON_DEPTH))).toBe("ran");
    await tool.dispose();
  });

  test("kv.set of arrays nested 1,800 deep is INVALID_ARGUMENT, audited; the sandbox carries on", async () => {
    const path = writeTool(dir, {
      capabilities: { store: { type: "kv" } },
      run: `let v = 1; for (let i = 0; i < input.depth; i++) v = [v];
            try { await caps.store.set("k", v); return "stored"; }
            catch (e) { return { code: e.code, message: e.message }; }`,
    });
    const tool = await runtime.loadTool(path, { grants: { store: "kv" }, backend });
    expect(await tool.call({ depth: 1800 })).toEqual({
      code: "INVALID_ARGUMENT",
      message: `handle call arguments are nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`,
    });
    expect(lastCall(tool.name, "set")).toMatchObject({
      handle: "store",
      decision: "error",
      code: "INVALID_ARGUMENT",
    });
    // The arguments object is one level: a value one below the bound is stored.
    expect(await tool.call({ depth: MAX_JSON_DEPTH - 1 })).toBe("stored");
    await tool.dispose();
  });

  test("a handle call refused for depth and left uncaught fails the call with its code", async () => {
    const path = writeTool(dir, {
      capabilities: { store: { type: "kv" } },
      run: `let v = 1; for (let i = 0; i < 1800; i++) v = [v]; await caps.store.set("k", v);`,
    });
    const tool = await runtime.loadTool(path, { grants: { store: "kv" }, backend });
    expect((await failure(tool.call({}))).code).toBe("INVALID_ARGUMENT");
    await tool.dispose();
  });

  test("output nested 5,000 deep is INVALID_OUTPUT", async () => {
    const path = writeTool(dir, { run: "let v = 1; for (let i = 0; i < 5000; i++) v = [v]; return v;" });
    const tool = await runtime.loadTool(path, { backend });
    const error = await failure(tool.call({}));
    if (backend === "quickjs:cell") {
      // The guest's own JSON.stringify of its output runs out of the cell thread's stack before anything
      // reaches the host (QuickJS recurses on the host's stack): the tool's failure, and a coded one.
      expect(error.code).toBe("TOOL_ERROR");
      expect(error.message).toMatch(/^RangeError: Maximum call stack size exceeded/);
    } else {
      expect(error.code).toBe("INVALID_OUTPUT");
      expect(error.message).toContain(`more than ${MAX_JSON_DEPTH} levels deep`);
    }
    await tool.dispose();
  });

  test("after tool.revoke, the tool's next use of the handle is CAPABILITY_DENIED, audited as a denial", async () => {
    const path = writeTool(dir, {
      capabilities: { files: { type: "fs", rights: ["read"] } },
      run: "return { rights: caps.files.rights, text: await caps.files.readText('a.txt') };",
    });
    const tool = await runtime.loadTool(path, { grants: { files: `fs:read:${data}` }, backend });
    expect(await tool.call({})).toEqual({ rights: ["read"], text: "alpha" });
    await tool.revoke("files");
    const error = await failure(tool.call({}));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.message).toBe('handle "files" has been revoked');
    expect(lastCall(tool.name, "readText")).toMatchObject({
      handle: "files",
      decision: "deny",
      code: "CAPABILITY_DENIED",
    });
    expect(lastCall(tool.name, "run")).toMatchObject({ decision: "deny", code: "CAPABILITY_DENIED" });
    await tool.dispose();
  });
});
