// Tests for the kernel's gate: rights, descriptors, attenuation, delegation, revocation, quotas, audit and
// disposal, on a Kernel built directly, plus the same rules seen from inside real sandboxes.
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { AuditLog, MemoryAuditSink } from "../runtime/audit.ts";
import { createClockKind } from "../runtime/capabilities/clock/index.ts";
import { type FsResource, fsKind } from "../runtime/capabilities/fs/index.ts";
import { FS_RIGHTS } from "../runtime/capabilities/fs/spec.ts";
import { createKvKind } from "../runtime/capabilities/kv/index.ts";
import { MemoryKvStore } from "../runtime/capabilities/kv/store.ts";
import { createLogKind } from "../runtime/capabilities/log/index.ts";
import type { CapabilityKind } from "../runtime/capabilities/types.ts";
import { WardenError } from "../runtime/errors.ts";
import { createRuntime, type Runtime } from "../runtime/index.ts";
import { Kernel, type KernelQuota, type SandboxRecord } from "../runtime/kernel.ts";
import { runningSandbox } from "./support/kernel.ts";
import { tempDir, writeTool } from "./support/tools.ts";
import { until } from "./support/wait.ts";

const SECRET = "TOP-SECRET-VALUE-8c1f";
const NOW = 1234567;

interface LogLine {
  level: string;
  message: string;
  owner: string;
}

interface World {
  kernel: Kernel;
  audit: MemoryAuditSink;
  logs: LogLine[];
  /** A kind that counts opens and closes, to see that disposal releases resources. */
  counts: { opened: number; closed: number };
}

let base: string;
/** base/data: a.txt ("alpha"), sub/b.txt ("beta") */
let dir: string;
/** base/other: o.txt ("other"); reachable from data's parent only. */
let other: string;
const sandboxes: { kernel: Kernel; sb: SandboxRecord }[] = [];

beforeEach(() => {
  base = realpathSync(tempDir("warden-kernel-"));
  dir = join(base, "data");
  other = join(base, "other");
  mkdirSync(join(dir, "sub"), { recursive: true });
  mkdirSync(other);
  writeFileSync(join(dir, "a.txt"), "alpha");
  writeFileSync(join(dir, "sub", "b.txt"), "beta");
  writeFileSync(join(other, "o.txt"), "other");
});

afterEach(async () => {
  for (const { kernel, sb } of sandboxes.splice(0)) await kernel.disposeSandbox(sb);
  rmSync(base, { recursive: true, force: true });
});

function countingKind(counts: World["counts"]): CapabilityKind {
  const clock = createClockKind(() => NOW) as CapabilityKind;
  return {
    ...clock,
    kind: "count",
    async open() {
      counts.opened++;
      return { open: true };
    },
    async close() {
      counts.closed++;
    },
  };
}

function world(quota?: Partial<KernelQuota>): World {
  const audit = new MemoryAuditSink();
  const logs: LogLine[] = [];
  const counts = { opened: 0, closed: 0 };
  const kernel = new Kernel({
    kinds: [
      fsKind as CapabilityKind,
      createKvKind(new MemoryKvStore()) as CapabilityKind,
      createClockKind(() => NOW) as CapabilityKind,
      createLogKind((line) => logs.push(line)) as CapabilityKind,
      countingKind(counts),
    ],
    audit: new AuditLog([audit]),
    quota,
  });
  return { kernel, audit, logs, counts };
}

function sandbox(kernel: Kernel, tool: string): SandboxRecord {
  const sb = runningSandbox(kernel, tool);
  sandboxes.push({ kernel, sb });
  return sb;
}

async function grant(kernel: Kernel, sb: SandboxRecord, name: string, spec: string): Promise<number> {
  const { kind, grant: g } = kernel.parseSpec(spec, {
    cwd: base,
    owner: sb.tool,
    identity: `/tools/${sb.tool}.js`,
  });
  return kernel.grant(sb, name, kind, g);
}

async function failure(promise: Promise<unknown>): Promise<WardenError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WardenError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("rights on fs operations", () => {
  const OPS: { op: string; args: () => unknown; right: string; extra?: string[] }[] = [
    { op: "readText", args: () => ({ path: "a.txt" }), right: "read" },
    { op: "readBytes", args: () => ({ path: "a.txt" }), right: "read" },
    { op: "stat", args: () => ({ path: "a.txt" }), right: "read" },
    { op: "list", args: () => ({ path: "" }), right: "list" },
    { op: "writeText", args: () => ({ path: "a.txt", text: "x" }), right: "write" },
    { op: "writeBytes", args: () => ({ path: "a.txt", bytes: new Uint8Array([1, 2]) }), right: "write" },
    { op: "mkdir", args: () => ({ path: "newdir" }), right: "create" },
    { op: "remove", args: () => ({ path: "a.txt" }), right: "delete" },
    { op: "rename", args: () => ({ from: "a.txt", to: "c.txt" }), right: "delete", extra: ["create"] },
  ];

  test.each(OPS)("$op is denied without $right and names the right", async ({ op, args, right }) => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const others = FS_RIGHTS.filter((r) => r !== right).join(",");
    const fd = await grant(kernel, sb, "files", `fs:${others}:${dir}`);
    const error = await failure(kernel.invoke(sb, fd, op, args()));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.denial?.right).toBe(right);
    expect(error.denial?.handle).toBe("files");
    expect(error.message).toContain(`"${right}" right`);
    expect(error.message).not.toContain(base);
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("alpha");
  });

  test.each(OPS)("$op is allowed with $right", async ({ op, args, right, extra }) => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:${[right, ...(extra ?? [])].join(",")}:${dir}`);
    await expect(kernel.invoke(sb, fd, op, args())).resolves.not.toThrow();
  });

  test("an allowed read returns the file; an allowed list returns entries", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    expect(await kernel.invoke(sb, fd, "readText", { path: "a.txt" })).toBe("alpha");
    expect(await kernel.invoke(sb, fd, "list", {})).toEqual([
      { name: "a.txt", type: "file" },
      { name: "sub", type: "directory" },
    ]);
  });

  test("the host-side form names the grant that would allow the call; the guest's does not name the dir", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    const guest = await failure(kernel.invoke(sb, fd, "writeText", { path: "a.txt", text: "x" }));
    expect(guest.code).toBe("CAPABILITY_DENIED");
    expect(guest.message).not.toContain(dir);
    expect(JSON.stringify(guest)).not.toContain(dir);
    const host = sb.issued.get("CAPABILITY_DENIED");
    expect(host?.code).toBe("CAPABILITY_DENIED");
    expect(host?.hint).toContain(`--grant files=fs:read,write,list:${dir}`);
    expect(host?.message).not.toContain(dir);
    expect(host?.denial).toEqual({ handle: "files", right: "write", grant: `fs:read,write,list:${dir}` });
  });

  test("a path outside the directory is denied without naming host paths", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    for (const path of ["../other/o.txt", `${other}/o.txt`, "sub/../../other/o.txt"]) {
      const error = await failure(kernel.invoke(sb, fd, "readText", { path }));
      expect(error.code).toBe("CAPABILITY_DENIED");
      expect(error.message).not.toContain(dir);
    }
  });

  // BUG: rename's "create" half is checked by op.check, whose denial the gate files under the op's own right
  // ("delete"), so denial.right is wrong and the host-side form names no grant.
  test("a rename denied for lack of create names create and the grant that would allow it", async () => {
    const { kernel } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,delete,list:${dir}`);
    const error = await failure(kernel.invoke(sb, fd, "rename", { from: "a.txt", to: "c.txt" }));
    expect(error.code).toBe("CAPABILITY_DENIED");
    expect(error.denial?.right).toBe("create");
    expect(sb.issued.get("CAPABILITY_DENIED")?.hint).toContain(
      `--grant files=fs:read,create,delete,list:${dir}`,
    );
  });
});

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
    expect(kernel.handlesOf(a)).toEqual({});
    expect(kernel.handlesOf(b)).toEqual({});
    expect(kernel.handlesOf(c)).toEqual({});
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

describe("quotas", () => {
  test("results and requests in flight are charged to the sandbox's data budget", async () => {
    const { kernel } = world();
    const sb = kernel.createSandbox("toolA", { dataBudget: 64 });
    kernel.beginRun(sb);
    writeFileSync(join(dir, "big.txt"), "x".repeat(100));
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    const big = await failure(kernel.invoke(sb, fd, "readText", { path: "big.txt" }));
    expect(big.code).toBe("LIMIT_EXCEEDED");
    expect(big.message).toMatch(/would hold more than/);
    const request = await failure(kernel.invoke(sb, fd, "readText", { path: "a.txt" }, 65));
    expect(request.code).toBe("LIMIT_EXCEEDED");
    expect(sb.dataInFlight).toBe(0);
    expect(await kernel.invoke(sb, fd, "readText", { path: "a.txt" }, 10)).toBeTypeOf("string");
  });

  test("a sandbox holds at most 1024 handles, however fast it attenuates", async () => {
    const { kernel } = world({ maxInFlight: 64, maxCallsPerRun: 5000 });
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "clock", "clock");
    const codes = new Map<string, number>();
    for (let batch = 0; batch < 20; batch++) {
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, () => kernel.invoke(sb, fd, "$attenuate", { rights: ["read"] })),
      );
      for (const r of results) {
        const code = r.status === "fulfilled" ? "ok" : (r.reason as WardenError).code;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    expect(sb.table.size).toBe(1024);
    expect(codes.get("ok")).toBe(1023);
    expect(codes.get("LIMIT_EXCEEDED")).toBe(1200 - 1023);
  });

  test("calls over maxInFlight are refused", async () => {
    const { kernel } = world({ maxInFlight: 2, maxCallsPerRun: 5 });
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "clock", "clock");
    kernel.beginRun(sb);
    const first = failure(kernel.invoke(sb, fd, "sleep", { ms: 5000 }));
    const second = failure(kernel.invoke(sb, fd, "sleep", { ms: 5000 }));
    await until(() => sb.inFlight === 2, "both sleeps are in flight");
    const third = await failure(kernel.invoke(sb, fd, "sleep", { ms: 1 }));
    expect(third.code).toBe("LIMIT_EXCEEDED");
    expect(third.message).toMatch(/in flight/);
    kernel.endRun(sb);
    expect((await first).code).toBe("LIMIT_EXCEEDED");
    expect((await second).code).toBe("LIMIT_EXCEEDED");
    expect(sb.inFlight).toBe(0);
    kernel.beginRun(sb);
    expect(await kernel.invoke(sb, fd, "sleep", { ms: 1 })).toBeNull();
  });

  test("the call after maxCallsPerRun is refused until the next run", async () => {
    const { kernel } = world({ maxInFlight: 2, maxCallsPerRun: 5 });
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "clock", "clock");
    kernel.beginRun(sb);
    for (let i = 0; i < 5; i++) expect(await kernel.invoke(sb, fd, "now", {})).toBe(1234500);
    const sixth = await failure(kernel.invoke(sb, fd, "now", {}));
    expect(sixth.code).toBe("LIMIT_EXCEEDED");
    expect(sixth.message).toMatch(/5 handle calls in one tool call/);
    expect(sb.issued.get("LIMIT_EXCEEDED")?.code).toBe("LIMIT_EXCEEDED");
    kernel.endRun(sb);
    kernel.beginRun(sb);
    expect(sb.issued.size).toBe(0);
    expect(await kernel.invoke(sb, fd, "now", {})).toBe(1234500);
  });

  test("denied and malformed calls do not use up the run's calls", async () => {
    const { kernel } = world({ maxCallsPerRun: 2 });
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "clock", "clock:read");
    kernel.beginRun(sb);
    for (let i = 0; i < 5; i++) {
      await failure(kernel.invoke(sb, fd, "sleep", { ms: 1 }));
      await failure(kernel.invoke(sb, fd, "now", { extra: 1 }));
    }
    expect(await kernel.invoke(sb, fd, "now", {})).toBe(1234500);
    expect(await kernel.invoke(sb, fd, "now", {})).toBe(1234500);
    expect((await failure(kernel.invoke(sb, fd, "now", {}))).code).toBe("LIMIT_EXCEEDED");
  });

  // BUG: "$attenuate" returns before the quota checks, so a guest can derive handles (each fs one opening a
  // host directory fd) without bound in one run.
  test("guest attenuations count against maxCallsPerRun", async () => {
    const { kernel } = world({ maxCallsPerRun: 5 });
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    kernel.beginRun(sb);
    for (let i = 0; i < 5; i++) await kernel.invoke(sb, fd, "$attenuate", {});
    expect((await failure(kernel.invoke(sb, fd, "$attenuate", {}))).code).toBe("LIMIT_EXCEEDED");
  });
});

describe("audit", () => {
  test("each decision leaves one record, written before the operation runs; a failure after it, a second", async () => {
    const { kernel, audit } = world();
    const sb = sandbox(kernel, "toolA");
    const fd = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    expect(audit.records.at(-1)).toMatchObject({
      event: "grant",
      tool: "toolA",
      sandbox: sb.id,
      handle: "files",
      kind: "fs",
      summary: `fs:read,list:${dir}`,
      decision: "allow",
    });

    const cases: [unknown, unknown, unknown, Record<string, unknown>][] = [
      [
        fd,
        "readText",
        { path: "a.txt" },
        { handle: "files", op: "readText", summary: "readText a.txt", decision: "allow" },
      ],
      [
        fd,
        "writeText",
        { path: "a.txt", text: "hello" },
        {
          handle: "files",
          op: "writeText",
          summary: "writeText a.txt (5 bytes)",
          decision: "deny",
          code: "CAPABILITY_DENIED",
        },
      ],
      [
        fd,
        "readText",
        { path: "missing.txt" },
        {
          handle: "files",
          op: "readText",
          summary: "readText missing.txt",
          decision: "error",
          code: "NOT_FOUND",
        },
      ],
      [fd, "readText", {}, { handle: "files", op: "readText", decision: "error", code: "INVALID_ARGUMENT" }],
      [fd, "bogus", {}, { handle: "files", op: "bogus", decision: "error", code: "INVALID_ARGUMENT" }],
      [77, "readText", { path: "a.txt" }, { op: "readText", decision: "deny", code: "CAPABILITY_DENIED" }],
      [fd, "$attenuate", { rights: ["read"] }, { handle: "files", op: "$attenuate", decision: "allow" }],
    ];
    for (const [n, op, args, expected] of cases) {
      const before = audit.records.length;
      await kernel.invoke(sb, n, op, args).catch(() => undefined);
      // The operation ran (it passed the gate) and then failed: its allow record comes first.
      const ranThenFailed = expected.code === "NOT_FOUND";
      expect(audit.records.length).toBe(before + (ranThenFailed ? 2 : 1));
      if (ranThenFailed) expect(audit.records.at(-2)).toMatchObject({ op, decision: "allow" });
      const record = audit.records.at(-1)!;
      expect(record).toMatchObject({ event: "call", tool: "toolA", sandbox: sb.id, ...expected });
      if (expected.decision === "allow") expect(record.code).toBeUndefined();
      else expect(record.reason).toEqual(expect.any(String));
      expect(record.seq).toBe(audit.records[before - 1]!.seq + (ranThenFailed ? 2 : 1));
    }
    // The guest-attenuation record names rights, never the host directory.
    expect(audit.records.at(-1)?.summary).toBe("fs:read");
  });

  test("no record holds file contents, kv values or log messages", async () => {
    const { kernel, audit, logs } = world();
    const sb = sandbox(kernel, "toolA");
    const files = await grant(kernel, sb, "files", `fs:read,write,create,list:${dir}`);
    const readOnly = await grant(kernel, sb, "ro", `fs:read:${dir}`);
    const store = await grant(kernel, sb, "store", "kv");
    const log = await grant(kernel, sb, "log", "log");
    await kernel.invoke(sb, files, "writeText", { path: "s.txt", text: SECRET });
    await kernel.invoke(sb, files, "writeText", { path: "s.txt", text: SECRET, append: true });
    await kernel.invoke(sb, files, "writeBytes", { path: "b.bin", bytes: new TextEncoder().encode(SECRET) });
    expect(await kernel.invoke(sb, files, "readText", { path: "s.txt" })).toBe(SECRET + SECRET);
    await kernel.invoke(sb, files, "readBytes", { path: "b.bin" });
    await failure(kernel.invoke(sb, readOnly, "writeText", { path: "s.txt", text: SECRET }));
    await failure(kernel.invoke(sb, files, "writeText", { path: "s.txt", text: SECRET, junk: 1 }));
    await kernel.invoke(sb, store, "set", { key: "k", value: { secret: SECRET } });
    expect(await kernel.invoke(sb, store, "get", { key: "k" })).toEqual({ secret: SECRET });
    await failure(kernel.invoke(sb, store, "set", { key: "big", value: SECRET.repeat(60_000) }));
    await failure(kernel.invoke(sb, store, "set", { key: "k", value: SECRET, extra: SECRET }));
    await kernel.invoke(sb, log, "write", { level: "info", message: SECRET });
    expect(logs).toEqual([{ level: "info", message: SECRET, owner: "toolA" }]);
    expect(audit.records.length).toBeGreaterThan(10);
    for (const record of audit.records) expect(JSON.stringify(record)).not.toContain(SECRET);
  });
});

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
    expect(await tool.call({ phase: 2 })).toEqual({
      present: false,
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
