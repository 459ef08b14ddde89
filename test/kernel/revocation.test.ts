// Revocation: a handle and everything derived from it, in every sandbox, with calls in flight aborted.
import { describe, expect, test } from "vitest";
import type { WardenError } from "../../runtime/errors.ts";
import type { SandboxRecord } from "../../runtime/kernel.ts";
import { failure } from "../support/failure.ts";
import { until } from "../support/wait.ts";
import { delay, dir, grant, sandbox, world } from "./fixture.ts";

describe("revocation", () => {
  test("revoking a parent revokes every derived handle, in every sandbox, three levels down", async () => {
    const { kernel, audit } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const c = sandbox(kernel, "toolC");
    const root = await grant(kernel, a, "files", `fs:read,list:${dir}`);
    const aChild = await kernel.attenuate(a, root, { rights: ["read", "list"] });
    const bShared = await kernel.delegate(a, aChild, b, "shared");
    const bSub = await kernel.attenuate(b, bShared, { path: "sub" });
    const cShared = await kernel.delegate(b, bSub, c, "fromB", { rights: ["read"] });
    expect(await kernel.invoke(c, cShared, "readText", { path: "b.txt" })).toBe("beta");

    expect(await kernel.revoke(a, root)).toBe(5);
    const held: [SandboxRecord, number, string][] = [
      [a, root, "a.txt"],
      [a, aChild, "a.txt"],
      [b, bShared, "a.txt"],
      [b, bSub, "b.txt"],
      [c, cShared, "b.txt"],
    ];
    for (const [sb, fd, path] of held) {
      const error = await failure(kernel.invoke(sb, fd, "readText", { path }));
      expect(error.code).toBe("CAPABILITY_DENIED");
      expect(error.message).toMatch(/revoked/);
      // Nothing can be derived from a revoked handle either.
      expect((await failure(kernel.attenuate(sb, fd, {}))).code).toBe("CAPABILITY_DENIED");
    }
    // Still listed by name, with no rights: a guest keeps its handle objects, and each use is denied at the gate.
    expect(kernel.handlesOf(a)).toEqual({ files: { fd: root, kind: "fs", rights: [] } });
    expect(kernel.handlesOf(b)).toEqual({ shared: { fd: bShared, kind: "fs", rights: [] } });
    expect(kernel.handlesOf(c)).toEqual({ fromB: { fd: cShared, kind: "fs", rights: [] } });
    expect(audit.records.filter((r) => r.event === "revoke")).toMatchObject([
      { tool: "toolA", sandbox: a.id, handle: "files", summary: "5 handle(s)", decision: "allow" },
    ]);
  });

  test("revoking a child leaves its parent and siblings working", async () => {
    const { kernel } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const root = await grant(kernel, a, "files", `fs:read,list:${dir}`);
    const child = await kernel.attenuate(a, root, { rights: ["read"] });
    const sibling = await kernel.delegate(a, root, b, "shared");
    expect(await kernel.revoke(a, child)).toBe(1);
    expect((await failure(kernel.invoke(a, child, "readText", { path: "a.txt" }))).message).toMatch(
      /revoked/,
    );
    expect(await kernel.invoke(a, root, "readText", { path: "a.txt" })).toBe("alpha");
    expect(await kernel.invoke(b, sibling, "readText", { path: "a.txt" })).toBe("alpha");
    // Revoking B's delegated copy leaves A alone too.
    await kernel.revoke(b, sibling);
    expect(await kernel.invoke(a, root, "readText", { path: "a.txt" })).toBe("alpha");
    expect(kernel.handlesOf(a)).toEqual({ files: { fd: root, kind: "fs", rights: ["read", "list"] } });
  });

  test("revoking a descriptor the sandbox does not hold is USAGE", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    expect((await failure(kernel.revoke(sb, 3))).code).toBe("USAGE");
  });

  test("an in-flight sleep on a revoked handle is aborted, not completed", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "clock", "clock");
    const started = Date.now();
    const sleeping = failure(kernel.invoke(sb, fd, "sleep", { ms: 10_000 }));
    await until(() => sb.inFlight === 1, "the sleep is in flight");
    await kernel.revoke(sb, fd);
    const error = await sleeping;
    // A hang bound, far under the 10 s sleep: the revocation ended it.
    expect(Date.now() - started).toBeLessThan(8000);
    expect(["CAPABILITY_DENIED", "LIMIT_EXCEEDED"]).toContain(error.code);
    expect(sb.inFlight).toBe(0);
  });

  test("an in-flight sleep on a child is aborted when an ancestor in another sandbox is revoked", async () => {
    const { kernel } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const fd = await grant(kernel, a, "clock", "clock");
    const shared = await kernel.delegate(a, fd, b, "clock", { rights: ["sleep"] });
    const sleeping = failure(kernel.invoke(b, shared, "sleep", { ms: 10_000 }));
    await delay(10);
    await kernel.revoke(a, fd);
    expect((await sleeping).code).toMatch(/CAPABILITY_DENIED|LIMIT_EXCEEDED/);
  });

  // BUG: derive() looks the parent up, then awaits narrow() and open(); a revocation in between leaves the new
  // child attached to an already-revoked parent, so it is never revoked and stays usable.
  test("an attenuation in flight when its parent is revoked yields no usable handle", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    // Handlers attached at once: the attenuation may fail before the revocation below finishes.
    const outcome = kernel.attenuate(sb, fd, { path: "sub" }).then(
      (child) =>
        kernel.invoke(sb, child, "readText", { path: "b.txt" }).then(
          () => "usable",
          (e: WardenError) => e.code,
        ),
      (e: WardenError) => e.code,
    );
    await kernel.revoke(sb, fd);
    expect(await outcome).toBe("CAPABILITY_DENIED");
  });

  test("a delegation in flight when its parent is revoked yields no usable handle", async () => {
    const { kernel } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const fd = await grant(kernel, a, "store", "kv");
    const outcome = kernel.delegate(a, fd, b, "shared", { prefix: "p/" }).then(
      (child) =>
        kernel.invoke(b, child, "set", { key: "k", value: 1 }).then(
          () => "usable",
          (e: WardenError) => e.code,
        ),
      (e: WardenError) => e.code,
    );
    await kernel.revoke(a, fd);
    expect(await outcome).toBe("CAPABILITY_DENIED");
  });
});
