// The wasm backend, in the kernel's process and in a cell: a revoked handle is denied at the gate (the
// component still gets its resource), deep input is INVALID_INPUT, and handle arguments or output nested past
// the bound get their codes, audited, instead of overflowing the host's stack.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@bytecodealliance/jco-transpile/wasm-tools";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuditLog, MemoryAuditSink } from "../../runtime/audit.ts";
import { bridgeTo } from "../../runtime/bridge.ts";
import { createKvKind } from "../../runtime/capabilities/kv/index.ts";
import { MemoryKvStore } from "../../runtime/capabilities/kv/store.ts";
import type { CapabilityKind } from "../../runtime/capabilities/types.ts";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { DEFAULT_LIMITS } from "../../runtime/isolates/types.ts";
import { wasmBackend } from "../../runtime/isolates/wasm/index.ts";
import { Kernel, type SandboxRecord } from "../../runtime/kernel.ts";
import { MAX_JSON_DEPTH } from "../../runtime/protocol/depth.ts";
import { failure } from "../support/failure.ts";
import { tempDir } from "../support/tools.ts";
import { BUILD, ensureExamplesBuilt } from "./fixtures.ts";

const FILES = join(BUILD, "files.wasm");
let runtime: Runtime;
let dir: string;

beforeAll(() => {
  ensureExamplesBuilt();
  dir = tempDir("warden-wasm-errors-");
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "a.txt"), "alpha");
  runtime = createRuntime({ cwd: dir });
});

afterAll(async () => {
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(["wasm:in-process", "wasm:cell"])("%s", (backend) => {
  test("after tool.revoke, the component's next use of the handle is CAPABILITY_DENIED, audited", async () => {
    const tool = await runtime.loadTool(FILES, { grants: { files: "fs:read,list:data" }, backend });
    expect(await tool.call({ op: "read", path: "a.txt" })).toEqual({ text: "alpha" });
    await tool.revoke("files");
    const error = await failure(tool.call({ op: "read", path: "a.txt" }));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.message).toBe('handle "files" has been revoked');
    expect(runtime.auditRecords.findLast((r) => r.tool === "files" && r.op === "readText")).toMatchObject({
      handle: "files",
      decision: "deny",
      code: "CAPABILITY_DENIED",
    });
    await tool.dispose();
  });

  test("input nested 5,000 deep is INVALID_INPUT, audited", async () => {
    const tool = await runtime.loadTool(FILES, { grants: { files: "fs:read,list:data" }, backend });
    let input: unknown = 1;
    for (let i = 0; i < 5000; i++) input = [input];
    const error = await failure(tool.call({ op: "read", path: input }));
    expect(error.code).toBe("INVALID_INPUT");
    expect(runtime.auditRecords.findLast((r) => r.tool === "files" && r.op === "run")).toMatchObject({
      decision: "error",
      code: "INVALID_INPUT",
    });
    await tool.dispose();
  });
});

/** A component whose glue (hand-written here, as jco would generate it) stores a deep kv value or returns deep output. */
async function deepComponent(): Promise<string> {
  const core = await parse(`(module (memory (export "memory") 1))`);
  const glue = `export function instantiate(getCoreModule, imports, instantiateCore) {
  instantiateCore(getCoreModule("tool.core.wasm"), {});
  const deep = (n) => "[".repeat(n) + "1" + "]".repeat(n);
  const tool = {
    describe: () => JSON.stringify({ name: "deep", description: "deep JSON", inputSchema: {}, outputSchema: {},
      capabilities: { store: { type: "kv", rights: null } } }),
    run: (inputJson) => {
      const { what, depth } = JSON.parse(inputJson);
      if (what === "output") return deep(depth);
      const result = imports["warden:tool/kv"].Store.granted("store").val.set("k", deep(depth));
      return JSON.stringify(JSON.stringify(result));
    },
  };
  return { "warden:tool/tool@0.1.0": tool };
}`;
  return JSON.stringify({
    format: "warden-component/1",
    types: ["kv"],
    glue,
    modules: [["tool.core.wasm", Buffer.from(core).toString("base64")]],
  });
}

describe("wasm: deep handle arguments and output, through the real channel and gate", () => {
  test("kv set of a value nested 1,800 deep is INVALID_ARGUMENT, audited; output that deep is INVALID_OUTPUT", async () => {
    const memory = new MemoryAuditSink();
    const kernel = new Kernel({
      kinds: [createKvKind(new MemoryKvStore()) as CapabilityKind],
      audit: new AuditLog([memory]),
    });
    let record: SandboxRecord | undefined;
    const sandbox = await wasmBackend.create({
      limits: DEFAULT_LIMITS,
      hostCall: bridgeTo(kernel, () => record),
    });
    try {
      await sandbox.load({ source: await deepComponent(), filename: "deep.wasm" });
      record = kernel.createSandbox("deep");
      const kv = kernel.kind("kv")!;
      await kernel.grant(
        record,
        "store",
        kv,
        kv.parseSpec("", { cwd: dir, owner: "deep", identity: "deep" }),
      );
      const run = async (input: unknown) => {
        kernel.beginRun(record!);
        try {
          return await sandbox.run(JSON.stringify(input), JSON.stringify(kernel.handlesOf(record!)), "{}");
        } finally {
          kernel.endRun(record!);
        }
      };
      // 1,800: deeper values already fail inside the isolate, as isolated-vm copies the arguments out.
      const stored = await run({ what: "set", depth: 1800 });
      expect(JSON.parse(JSON.parse(stored.outputJson) as string)).toEqual({
        tag: "err",
        val: {
          code: "INVALID_ARGUMENT",
          message: `handle call arguments are nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`,
        },
      });
      expect(memory.records.findLast((r) => r.event === "call")).toMatchObject({
        handle: "store",
        op: "set",
        decision: "error",
        code: "INVALID_ARGUMENT",
      });
      const error = await failure(run({ what: "output", depth: 5000 }));
      expect(error.code).toBe("INVALID_OUTPUT");
    } finally {
      await sandbox.dispose();
    }
  });
});
