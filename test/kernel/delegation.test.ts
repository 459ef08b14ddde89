// Delegation: a handle derived into another sandbox's table, revocable with its parent.
import { describe, expect, test } from "vitest";
import { failure } from "../support/failure.ts";
import { dir, grant, sandbox, world } from "./fixture.ts";

describe("delegation", () => {
  test("a delegated handle is narrower, listed for its holder, and cannot be widened", async () => {
    const { kernel, audit } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const fd = await grant(kernel, a, "files", `fs:read,write,list:${dir}`);
    const shared = await kernel.delegate(a, fd, b, "shared", { rights: ["read"] });
    expect(kernel.handlesOf(b)).toEqual({ shared: { fd: shared, kind: "fs", rights: ["read"] } });
    expect(await kernel.invoke(b, shared, "readText", { path: "a.txt" })).toBe("alpha");
    const error = await failure(kernel.invoke(b, shared, "writeText", { path: "a.txt", text: "x" }));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.denial?.right).toBe("write");
    // B cannot get its rights back by attenuating or delegating again.
    expect((await failure(kernel.attenuate(b, shared, { rights: ["read", "write"] }))).code).toBe(
      "CAPABILITY_DENIED",
    );
    const c = sandbox(kernel, "toolC");
    expect((await failure(kernel.delegate(b, shared, c, "x", { rights: ["list"] }))).code).toBe(
      "CAPABILITY_DENIED",
    );
    // Nor can A delegate more than it holds.
    expect((await failure(kernel.delegate(a, fd, b, "more", { rights: ["read", "create"] }))).code).toBe(
      "CAPABILITY_DENIED",
    );
    expect(kernel.handlesOf(b)).toEqual({ shared: { fd: shared, kind: "fs", rights: ["read"] } });
    expect(audit.records.filter((r) => r.event === "grant" && r.tool === "toolB")).toMatchObject([
      { handle: "shared", kind: "fs", decision: "allow", summary: 'delegated by toolA from "files"' },
    ]);
  });

  test("a delegation can also narrow the scope", async () => {
    const { kernel } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const fd = await grant(kernel, a, "files", `fs:read,list:${dir}`);
    const shared = await kernel.delegate(a, fd, b, "sub", { path: "sub" });
    expect(kernel.handlesOf(b).sub?.rights).toEqual(["read", "list"]);
    expect(await kernel.invoke(b, shared, "readText", { path: "b.txt" })).toBe("beta");
    expect((await failure(kernel.invoke(b, shared, "readText", { path: "../a.txt" }))).code).toBe(
      "CAPABILITY_DENIED",
    );
  });

  test("a descriptor from another sandbox cannot be delegated", async () => {
    const { kernel } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const fd = await grant(kernel, a, "files", `fs:read,list:${dir}`);
    const error = await failure(kernel.delegate(b, fd, b, "stolen"));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(kernel.handlesOf(b)).toEqual({});
  });
});
