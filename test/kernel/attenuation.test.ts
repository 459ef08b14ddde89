// Attenuation: a derived handle has fewer rights and a narrower scope, never more.
import { describe, expect, test } from "vitest";
import { failure } from "../support/failure.ts";
import { dir, grant, sandbox, world } from "./fixture.ts";

describe("attenuation", () => {
  test("fewer rights are allowed and enforced", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,write,list:${dir}`);
    const child = await kernel.attenuate(sb, fd, { rights: ["read"] });
    expect(child).not.toBe(fd);
    expect(await kernel.invoke(sb, child, "readText", { path: "a.txt" })).toBe("alpha");
    const error = await failure(kernel.invoke(sb, child, "list", {}));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.denial?.right).toBe("list");
    const none = await kernel.attenuate(sb, fd, { rights: [] });
    expect((await failure(kernel.invoke(sb, none, "readText", { path: "a.txt" }))).code).toBe(
      "CAPABILITY_DENIED",
    );
  });

  test("more rights than the parent holds are refused", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    for (const rights of [["read", "write"], ["create"], ["fly"], ["read", "list", "delete"]]) {
      const error = await failure(kernel.attenuate(sb, fd, { rights }));
      expect(error.code).toBe("CAPABILITY_DENIED");
      expect(error.message).toMatch(/cannot be delegated/);
    }
    const child = await kernel.attenuate(sb, fd, { rights: ["read"] });
    const error = await failure(kernel.attenuate(sb, child, { rights: ["read", "list"] }));
    expect(error.code).toBe("CAPABILITY_DENIED");
  });

  test("a bad attenuation request is INVALID_ARGUMENT", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    for (const request of [null, "read", { rights: "read" }, { rights: [1] }, { path: 7 }]) {
      expect((await failure(kernel.attenuate(sb, fd, request))).code).toBe("INVALID_ARGUMENT");
    }
  });

  test("an fs subdirectory narrowing confines paths to the subdirectory", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    const sub = await kernel.attenuate(sb, fd, { path: "sub" });
    expect(await kernel.invoke(sb, sub, "readText", { path: "b.txt" })).toBe("beta");
    expect(await kernel.invoke(sb, sub, "list", {})).toEqual([{ name: "b.txt", type: "file" }]);
    for (const path of ["../a.txt", "../sub/b.txt", "./../a.txt", "x/../../a.txt"]) {
      const error = await failure(kernel.invoke(sb, sub, "readText", { path }));
      expect(error.code).toBe("CAPABILITY_DENIED");
    }
    // The parent still reaches it.
    expect(await kernel.invoke(sb, fd, "readText", { path: "a.txt" })).toBe("alpha");
    // A narrowing cannot climb out either.
    for (const path of ["..", "../other", "sub/../.."]) {
      expect((await failure(kernel.attenuate(sb, fd, { path }))).code).toBe("CAPABILITY_DENIED");
    }
    expect((await failure(kernel.attenuate(sb, sub, { path: ".." }))).code).toBe("CAPABILITY_DENIED");
    expect((await failure(kernel.attenuate(sb, fd, { path: "missing" }))).code).toBe("NOT_FOUND");
  });

  test("a kv prefix narrowing sees only keys under the prefix", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "store", "kv");
    await kernel.invoke(sb, fd, "set", { key: "a/x", value: 1 });
    await kernel.invoke(sb, fd, "set", { key: "b/y", value: 2 });
    const child = await kernel.attenuate(sb, fd, { prefix: "a/" });
    expect(await kernel.invoke(sb, child, "get", { key: "x" })).toBe(1);
    expect(await kernel.invoke(sb, child, "get", { key: "b/y" })).toBeNull();
    expect(await kernel.invoke(sb, child, "get", { key: "../b/y" })).toBeNull();
    expect(await kernel.invoke(sb, child, "list", {})).toEqual(["x"]);
    expect(await kernel.invoke(sb, child, "delete", { key: "b/y" })).toBe(false);
    await kernel.invoke(sb, child, "set", { key: "z", value: 3 });
    expect(await kernel.invoke(sb, fd, "get", { key: "a/z" })).toBe(3);
    const grandchild = await kernel.attenuate(sb, child, { prefix: "q/", rights: ["read"] });
    expect(await kernel.invoke(sb, grandchild, "get", { key: "x" })).toBeNull();
    expect((await failure(kernel.invoke(sb, grandchild, "set", { key: "x", value: 1 }))).code).toBe(
      "CAPABILITY_DENIED",
    );
  });

  test("a clock can be made only coarser", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "clock", "clock:read:100ms");
    expect(await kernel.invoke(sb, fd, "now", {})).toBe(1234500);
    const coarse = await kernel.attenuate(sb, fd, { resolutionMs: 1000 });
    expect(await kernel.invoke(sb, coarse, "now", {})).toBe(1234000);
    const finer = await kernel.attenuate(sb, fd, { resolutionMs: 1 });
    expect(await kernel.invoke(sb, finer, "now", {})).toBe(1234500);
    const backDown = await kernel.attenuate(sb, coarse, { resolutionMs: 100 });
    expect(await kernel.invoke(sb, backDown, "now", {})).toBe(1234000);
  });

  test("a log's maxBytes can only shrink", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "log", "log");
    const small = await kernel.attenuate(sb, fd, { maxBytes: 10 });
    await kernel.invoke(sb, small, "write", { level: "info", message: "0123456789" });
    const error = await failure(kernel.invoke(sb, small, "write", { level: "info", message: "x" }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    const big = await kernel.attenuate(sb, fd, { maxBytes: 100 << 20 });
    expect(sb.table.get(big)?.grant.scope).toMatchObject({ maxBytes: 1 << 20 });
    const bigger = await kernel.attenuate(sb, small, { maxBytes: 1000 });
    expect(sb.table.get(bigger)?.grant.scope).toEqual({ maxBytes: 10 });
  });

  test("a handle attenuated on the host is not added to the guest's names", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    await kernel.attenuate(sb, fd, { rights: ["read"] });
    expect(kernel.handlesOf(sb)).toEqual({ files: { fd, kind: "fs", rights: ["read", "list"] } });
  });
});
