// What a guest request must be: a descriptor the sandbox holds, an operation its kind has, arguments its schema takes.
import { beforeEach, describe, expect, test } from "vitest";
import type { SandboxRecord } from "../../runtime/kernel.ts";
import { failure } from "../support/failure.ts";
import { dir, grant, sandbox, type World, world } from "./fixture.ts";

describe("descriptors, operation names and arguments", () => {
  let w: World;
  let sb: SandboxRecord;
  let fd: number;

  beforeEach(async () => {
    w = world();
    sb = sandbox(w.kernel, "toolA");
    fd = await grant(w.kernel, sb, "files", `fs:read,list:${dir}`);
  });

  test("an unknown descriptor is denied", async () => {
    for (const n of [99, -1, 0, 1, 2, Number.NaN, 3.5, Number.POSITIVE_INFINITY]) {
      const error = await failure(w.kernel.invoke(sb, n, "readText", { path: "a.txt" }));
      expect(error.code).toBe("CAPABILITY_DENIED");
      expect(error.message).toMatch(/no handle/);
    }
  });

  test("a revoked descriptor is denied as revoked", async () => {
    expect(await w.kernel.revoke(sb, fd)).toBe(1);
    const error = await failure(w.kernel.invoke(sb, fd, "readText", { path: "a.txt" }));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.message).toMatch(/revoked/);
  });

  test("a descriptor or op name of the wrong type is INVALID_ARGUMENT", async () => {
    for (const [badFd, op] of [
      ["3", "readText"],
      [null, "readText"],
      [undefined, "readText"],
      [{ fd: 3 }, "readText"],
      [3n, "readText"],
      [fd, 42],
      [fd, null],
      [fd, Symbol("readText")],
    ] as const) {
      const error = await failure(w.kernel.invoke(sb, badFd, op, { path: "a.txt" }));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toMatch(/descriptor and an operation name/);
    }
  });

  test.each(["nope", "constructor", "__proto__", "hasOwnProperty", "toString", "valueOf", ""])(
    "op %j is INVALID_ARGUMENT and lists the real ops",
    async (op) => {
      const error = await failure(w.kernel.invoke(sb, fd, op, { path: "a.txt" }));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain(`no operation "${op}"`);
      expect(error.message).toContain("readText");
    },
  );

  test.each([
    ["readText", {}],
    ["readText", { path: 1 }],
    ["readText", { path: "a.txt", extra: true }],
    ["readText", null],
    ["readText", "a.txt"],
    ["readText", undefined],
    ["list", { path: ["a"] }],
    ["writeBytes", { path: "a.txt", bytes: [1, 2, 3] }],
    ["rename", { from: "a.txt" }],
  ])("%s with %j is INVALID_ARGUMENT", async (op, args) => {
    const error = await failure(w.kernel.invoke(sb, fd, op, args));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain(`bad arguments to files.${op}`);
  });
});
