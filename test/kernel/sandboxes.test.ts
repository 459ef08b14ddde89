// Sandboxes are separate: a descriptor means something only in its own table.
import { describe, expect, test } from "vitest";
import { failure } from "../support/failure.ts";
import { dir, grant, other, sandbox, world } from "./fixture.ts";

describe("sandboxes are separate", () => {
  test("a sandbox with no grants can name none of another sandbox's descriptors", async () => {
    const { kernel } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const aFd = await grant(kernel, a, "files", `fs:read,list:${dir}`);
    await kernel.attenuate(a, aFd, { rights: ["read"] });
    await grant(kernel, a, "store", "kv");
    for (let n = 0; n <= 20; n++) {
      const error = await failure(kernel.invoke(b, n, "readText", { path: "a.txt" }));
      expect(error.code).toBe("CAPABILITY_DENIED");
      expect(error.message).toBe(`no handle ${n} in this sandbox`);
    }
    expect(kernel.handlesOf(b)).toEqual({});
  });

  test("the same descriptor number in two sandboxes names each one's own handle", async () => {
    const { kernel } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const aFd = await grant(kernel, a, "files", `fs:read,list:${dir}`);
    const bFd = await grant(kernel, b, "files", `fs:read,list:${other}`);
    expect(aFd).toBe(3);
    expect(bFd).toBe(3);
    expect(await kernel.invoke(b, 3, "readText", { path: "o.txt" })).toBe("other");
    expect(await kernel.invoke(a, 3, "readText", { path: "a.txt" })).toBe("alpha");
    expect((await failure(kernel.invoke(b, 3, "readText", { path: "a.txt" }))).code).toBe("NOT_FOUND");
    expect((await failure(kernel.invoke(b, 3, "readText", { path: "../data/a.txt" }))).code).toBe(
      "CAPABILITY_DENIED",
    );
    expect((await failure(kernel.invoke(b, 4, "readText", { path: "o.txt" }))).code).toBe(
      "CAPABILITY_DENIED",
    );
  });
});
