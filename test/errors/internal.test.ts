// A real INTERNAL (a bug in Warden) keeps its cause: the operator log holds the stack under an id, the error
// keeps the original as `cause`, and a guest or an MCP client sees only the code, a plain message and the id.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, expect, test } from "vitest";
import { z } from "zod";
import { AuditLog, MemoryAuditSink } from "../../runtime/audit.ts";
import { bridgeTo } from "../../runtime/bridge.ts";
import { type CapabilityKind, defineOperation } from "../../runtime/capabilities/types.ts";
import { WardenError } from "../../runtime/errors.ts";
import { INTERNAL_LOG, internalReporter } from "../../runtime/internal.ts";
import { Kernel } from "../../runtime/kernel.ts";
import { callForMcp } from "../../runtime/mcp/serve.ts";
import type { Tool } from "../../runtime/tool.ts";
import { runningSandbox } from "../support/kernel.ts";
import { tempDir } from "../support/tools.ts";

const state = tempDir("warden-internal-");
afterAll(() => rmSync(state, { recursive: true, force: true }));

/** A kind whose one operation has a bug: it throws a plain Error whose text names a host path. */
const buggy: CapabilityKind = {
  kind: "buggy",
  rights: ["use"],
  defaultRights: ["use"],
  parseSpec: () => ({ rights: ["use"], scope: {} }),
  formatSpec: () => "buggy",
  auditForm: () => "buggy",
  describe: () => "a buggy kind",
  open: async () => undefined,
  close: async () => undefined,
  narrowArgs: z.strictObject({}),
  narrow: async (parent) => parent.grant.scope,
  ops: {
    go: defineOperation<unknown, unknown, Record<string, never>>({
      right: "use",
      args: z.strictObject({}),
      summary: () => "go",
      run: async () => {
        throw new TypeError("cannot read /srv/secret/host/path.txt");
      },
    }),
  },
};

function logEntries(): Array<{ id: string; where: string; error: { message: string; stack?: string } }> {
  return readFileSync(join(state, INTERNAL_LOG), "utf8")
    .trim()
    .split("\n")
    .map(
      (line) => JSON.parse(line) as { id: string; where: string; error: { message: string; stack?: string } },
    );
}

test("the gate logs a bug's cause and stack under an id; the guest's reply holds only the code, a plain message and the id", async () => {
  const audit = new MemoryAuditSink();
  const kernel = new Kernel({
    kinds: [buggy],
    audit: new AuditLog([audit]),
    internal: internalReporter(state),
  });
  const sb = runningSandbox(kernel, "toolA");
  const fd = await kernel.grant(sb, "b", buggy, buggy.parseSpec("", { cwd: state }));

  const error = await kernel.invoke(sb, fd, "go", {}).then(
    () => undefined,
    (e: unknown) => e as WardenError,
  );
  expect(error).toBeInstanceOf(WardenError);
  expect(error?.code).toBe("INTERNAL");
  expect(error?.message).toMatch(/^internal error in Warden \(id [0-9a-f]{8}\); see the operator log$/);
  expect(error?.cause).toBeInstanceOf(TypeError);
  const entry = logEntries().find((e) => e.id === error?.incident);
  expect(entry?.error.message).toBe("cannot read /srv/secret/host/path.txt");
  expect(entry?.error.stack).toMatch(/at .*internal\.test\.ts/);
  expect(audit.records.at(-1)).toMatchObject({ op: "go", decision: "error", code: "INTERNAL" });

  const reply = JSON.parse(await bridgeTo(kernel, () => sb)(fd, "go", "{}")) as {
    ok: boolean;
    error: { code: string; message: string };
  };
  expect(reply.ok).toBe(false);
  expect(reply.error.code).toBe("INTERNAL");
  expect(reply.error.message).toMatch(/^internal error in Warden \(id [0-9a-f]{8}\); see the operator log$/);
  expect(JSON.stringify(reply)).not.toMatch(/srv|secret|\bat /);
  // Each incident is its own entry, found by the id the guest was told.
  expect(logEntries().some((e) => reply.error.message.includes(e.id))).toBe(true);
});

test("an MCP client gets the id of an internal failure as a protocol error, with the original kept as cause", async () => {
  const original = internalReporter(state)(new Error("a bug at /srv/host/file.ts"), "test");
  const tool = {
    name: "broken",
    definition: { outputSchema: { type: "object" } },
    call: async () => {
      throw original;
    },
  } as unknown as Tool;
  const thrown = await callForMcp(tool, {}, "stdio").then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(thrown).toBeInstanceOf(McpError);
  expect((thrown as McpError).message).toContain(`id ${original.incident}`);
  expect((thrown as McpError).message).not.toContain("/srv/");
  expect((thrown as McpError).cause).toBe(original);
});
