// The gate's rules seen from inside real sandboxes, through createRuntime and loadTool.
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { failure } from "../support/failure.ts";
import { tempDir, writeTool } from "../support/tools.ts";

describe("through real sandboxes", () => {
  let runtime: Runtime;
  let home: string;
  let data: string;

  beforeAll(() => {
    home = realpathSync(tempDir("warden-kernel-rt-"));
    data = join(home, "data");
    mkdirSync(join(data, "sub"), { recursive: true });
    writeFileSync(join(data, "a.txt"), "alpha");
    writeFileSync(join(data, "sub", "b.txt"), "beta");
    runtime = createRuntime({ cwd: home });
  });
  afterAll(async () => {
    await runtime.close();
    rmSync(home, { recursive: true, force: true });
  });

  const FILES = { files: { type: "fs", rights: ["read", "list"] } };

  test("a call whose fresh sandbox fails to start is audited like any failed call", async () => {
    // V8 seeds Math.random per isolate, so this module defines a different output schema each time it loads.
    const file = writeTool(home, {
      output: 'z.object({ ["k" + Math.floor(Math.random() * 1e9)]: z.string().optional() })',
      run: "if (input.spin) for (;;) {} return {};",
    });
    const tool = await runtime.loadTool(file, { backend: "v8", limits: { cpuMs: 100 } });
    await expect(tool.call({ spin: true })).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    await expect(tool.call({ spin: false }, { session: "restart-test" })).rejects.toMatchObject({
      code: "LOAD_ERROR",
      message: expect.stringMatching(/defined itself differently/),
    });
    expect(runtime.auditRecords.filter((r) => r.session === "restart-test")).toMatchObject([
      { op: "run", decision: "error", code: "LOAD_ERROR" },
    ]);
    await tool.dispose();
  });

  test("a handle revoked by the host between two calls is denied on the second", async () => {
    const file = writeTool(home, {
      capabilities: FILES,
      top: "let saved;",
      run: `
        if (input.phase === 1) { saved = caps.files; return await caps.files.readText("a.txt"); }
        if (input.phase === 2) {
          const present = caps.files !== undefined;
          try { await saved.readText("a.txt"); return "read"; }
          catch (e) { return { present, code: e.code, message: e.message }; }
        }
        return await saved.readText("a.txt");`,
    });
    const tool = await runtime.loadTool(file, { grants: { files: "fs:read,list:data" } });
    expect(await tool.call({ phase: 1 })).toBe("alpha");
    expect(await tool.revoke("files")).toBe(1);
    // The README's promise: the tool still holds its handle object, and its use is denied at the gate.
    expect(await tool.call({ phase: 2 })).toEqual({
      present: true,
      code: "CAPABILITY_DENIED",
      message: 'handle "files" has been revoked',
    });
    const error = await failure(tool.call({ phase: 3 }));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.message).toMatch(/revoked/);
    expect((await failure(tool.revoke("nothing"))).code).toBe("USAGE");
  });

  test("a tool's own attenuation to a subdirectory reads only inside it", async () => {
    const file = writeTool(home, {
      capabilities: FILES,
      run: `
        const sub = await caps.files.attenuate({ path: "sub", rights: ["read"] });
        const out = { rights: sub.rights, inside: await sub.readText("b.txt") };
        for (const [key, fn] of [
          ["up", () => sub.readText("../a.txt")],
          ["abs", () => sub.readText("/etc/passwd")],
          ["list", () => sub.list()],
          ["widen", () => sub.attenuate({ rights: ["read", "list"] })],
          ["escape", () => sub.attenuate({ path: ".." })],
        ]) {
          try { await fn(); out[key] = "allowed"; } catch (e) { out[key] = e.code; }
        }
        out.parent = await caps.files.readText("a.txt");
        return out;`,
    });
    const tool = await runtime.loadTool(file, { grants: { files: "fs:read,list:data" } });
    expect(await tool.call({})).toEqual({
      rights: ["read"],
      inside: "beta",
      up: "CAPABILITY_DENIED",
      abs: "CAPABILITY_DENIED",
      list: "CAPABILITY_DENIED",
      widen: "CAPABILITY_DENIED",
      escape: "CAPABILITY_DENIED",
      parent: "alpha",
    });
    const attenuations = runtime.auditRecords.filter((r) => r.tool === tool.name && r.op === "$attenuate");
    expect(attenuations[0]).toMatchObject({ decision: "allow", summary: "fs:read" });
    for (const r of attenuations) expect(JSON.stringify(r)).not.toContain(home);
  });

  test("a grant with more rights than the tool declares is cut down to the declared ones", async () => {
    const file = writeTool(home, {
      capabilities: FILES,
      run: `
        let write;
        try { await caps.files.writeText("a.txt", "overwritten"); write = "written"; } catch (e) { write = e.code; }
        return { rights: caps.files.rights, write, read: await caps.files.readText("a.txt") };`,
    });
    const tool = await runtime.loadTool(file, { grants: { files: "fs:read,write,create,list:data" } });
    expect(runtime.kernel.handlesOf(tool.sandboxRecord).files?.rights).toEqual(["read", "list"]);
    expect(await tool.call({})).toEqual({
      rights: ["read", "list"],
      write: "CAPABILITY_DENIED",
      read: "alpha",
    });
    expect(readFileSync(join(data, "a.txt"), "utf8")).toBe("alpha");
  });

  test("a missing grant fails loadTool with CAPABILITY_DENIED naming the grant to give", async () => {
    const file = writeTool(home, { capabilities: FILES, run: "return 1;" });
    const error = await failure(runtime.loadTool(file, { grants: {} }));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.message).toContain("--grant files=fs:read,list:DIR");
  });

  test("a grant for a name the tool does not declare fails loadTool with USAGE", async () => {
    const file = writeTool(home, { capabilities: FILES, run: "return 1;" });
    const error = await failure(
      runtime.loadTool(file, { grants: { files: "fs:read,list:data", extra: "kv" } }),
    );
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain('does not declare a capability named "extra"');
    const wrongKind = await failure(runtime.loadTool(file, { grants: { files: "kv" } }));
    expect(wrongKind.code).toBe("USAGE");
    expect(wrongKind.message).toContain("--grant files=fs:read,list:DIR");
  });
});
