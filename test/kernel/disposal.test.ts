// Disposing a sandbox releases every resource its handles held.
import { describe, expect, test } from "vitest";
import type { FsResource } from "../../runtime/capabilities/fs/index.ts";
import { failure } from "../support/failure.ts";
import { dir, grant, sandbox, world } from "./fixture.ts";

describe("disposal", () => {
  test("after disposeSandbox every descriptor is denied and resources are closed", async () => {
    const { kernel, counts } = world();
    const a = sandbox(kernel, "toolA");
    const b = sandbox(kernel, "toolB");
    const files = await grant(kernel, a, "files", `fs:read,list:${dir}`);
    const counted = await grant(kernel, a, "count", "count");
    const countedChild = await kernel.attenuate(a, counted, { rights: ["read"] });
    const shared = await kernel.delegate(a, files, b, "shared");
    const fsResource = a.table.get(files)!.resource as FsResource;
    expect(counts).toEqual({ opened: 2, closed: 0 });

    await kernel.disposeSandbox(a);
    expect(a.disposed).toBe(true);
    expect(counts).toEqual({ opened: 2, closed: 2 });
    for (const n of [files, counted, countedChild, 99]) {
      const error = await failure(kernel.invoke(a, n, "readText", { path: "a.txt" }));
      expect(error.code).toBe("CAPABILITY_DENIED");
      expect(error.message).toMatch(/disposed/);
    }
    expect((await failure(fsResource.use(async () => 1))).code).toBe("CAPABILITY_DENIED");
    // What A delegated goes with it.
    expect((await failure(kernel.invoke(b, shared, "readText", { path: "a.txt" }))).message).toMatch(
      /revoked/,
    );
    // Disposing twice is harmless.
    await kernel.disposeSandbox(a);
    expect(counts.closed).toBe(2);
  });

  test("a revoked handle's resource is closed exactly once", async () => {
    const { kernel, counts } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "count", "count");
    await kernel.revoke(sb, fd);
    await kernel.revoke(sb, fd);
    await kernel.disposeSandbox(sb);
    expect(counts).toEqual({ opened: 1, closed: 1 });
  });
});
