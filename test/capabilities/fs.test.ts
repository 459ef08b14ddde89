// Tests for the fs capability kind: normal behaviour of every op and right, and a table of escape attempts.
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type FsResource, type FsScope, fsKind } from "../../runtime/capabilities/fs/index.ts";
import type { OpenHandle } from "../../runtime/capabilities/types.ts";
import { WardenError } from "../../runtime/errors.ts";
import { failure } from "../support/failure.ts";

const SECRET = "OUTSIDE-SECRET-CONTENT";
const ALL = "read,write,create,delete,list";
type Handle = OpenHandle<FsScope, FsResource>;

let tmp: string;
let root: string;
let outside: string;
const opened: FsResource[] = [];

/**
 * tmp/root        the handle's directory, with files, a subdirectory and symlinks of every sort
 * tmp/root-evil   a sibling whose name starts like the root's
 * tmp/outside     what no path may reach
 */
beforeEach(async () => {
  tmp = realpathSync(await mkdtemp(join(tmpdir(), "warden-fs-")));
  root = join(tmp, "root");
  outside = join(tmp, "outside");
  await mkdir(join(root, "notes"), { recursive: true });
  await mkdir(join(root, "sub"));
  await mkdir(join(tmp, "root-evil"));
  await mkdir(outside);
  await writeFile(join(outside, "secret.txt"), SECRET);
  await writeFile(join(tmp, "root-evil", "x"), SECRET);
  await writeFile(join(root, "notes", "a.txt"), "hello");
  await writeFile(join(root, "sub", "secret.txt"), "harmless");
  await symlink(join(outside, "secret.txt"), join(root, "abs-link"));
  await symlink("../outside/secret.txt", join(root, "rel-link"));
  await symlink("chain2", join(root, "chain1"));
  await symlink("../outside/secret.txt", join(root, "chain2"));
  await symlink("../outside", join(root, "outdir"));
  await symlink("../outside/created.txt", join(root, "dangling"));
  await symlink("notes/a.txt", join(root, "inlink"));
  await symlink("notes", join(root, "indir"));
  await symlink("../root-evil", join(root, "evil-link"));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((resource) => fsKind.close(resource)));
  await rm(tmp, { recursive: true, force: true });
});

async function openHandle(rights = ALL, dir = root): Promise<Handle> {
  const grant = fsKind.parseSpec(`${rights}:${dir}`, { cwd: tmp });
  const resource = await fsKind.open(grant);
  opened.push(resource);
  return { grant, resource };
}

function call(handle: Handle, op: string, args: unknown): Promise<unknown> {
  const operation = fsKind.ops[op];
  if (operation === undefined) throw new Error(`no such op ${op}`);
  return operation.run(handle, operation.args.parse(args), {
    signal: new AbortController().signal,
    handleName: "files",
  });
}

/** Every entry outside the root, with file contents and link targets: what no call may change. */
function snapshotOutside(): Record<string, string> {
  const seen: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (full === root) continue;
      const stats = lstatSync(full);
      if (stats.isSymbolicLink()) seen[full] = `link:${readlinkSync(full)}`;
      else if (stats.isDirectory()) {
        seen[full] = "dir";
        walk(full);
      } else seen[full] = `file:${readFileSync(full, "utf8")}`;
    }
  };
  walk(tmp);
  return seen;
}

describe("grant specs", () => {
  test("parses rights in canonical order and resolves the path against cwd to a realpath", async () => {
    await symlink(root, join(tmp, "root-alias"));
    const grant = fsKind.parseSpec("list,write,read,write:./root-alias", { cwd: tmp });
    expect(grant).toEqual({ rights: ["read", "write", "list"], scope: { root } });
    expect(fsKind.formatSpec(grant)).toBe(`fs:read,write,list:${root}`);
    expect(fsKind.describe(grant)).toBe(`read, write and list files under ${root}`);
    expect(fsKind.describe(fsKind.parseSpec(`read,list:${root}`, { cwd: "/" }))).toBe(
      `read and list files under ${root}`,
    );
    expect(fsKind.rights).toEqual(["read", "write", "create", "delete", "list"]);
    expect(fsKind.defaultRights).toEqual(["read", "list"]);
  });

  test.each([
    ["no rights part", "./root", "names no rights"],
    ["empty rights", ":./root", "names no rights"],
    ["unknown right", "read,exec:./root", '"exec"'],
    ["no path", "read:", "names no directory"],
    ["missing directory", "read:./nope", '"./nope"'],
    ["a file, not a directory", "read:./root/notes/a.txt", '"./root/notes/a.txt"'],
  ])("%s is a USAGE error showing a valid spec", (_name, body, mentions) => {
    let error: unknown;
    try {
      fsKind.parseSpec(body, { cwd: tmp });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WardenError);
    const warden = error as WardenError;
    expect(warden.code).toBe("USAGE");
    expect(warden.message).toContain(mentions);
    expect(warden.message).toContain("fs:read,list:./data");
    expect(warden.message).toContain("read, write, create, delete, list");
  });
});

describe("operations", () => {
  test("each op declares the right the kernel checks", () => {
    const rights = Object.fromEntries(Object.entries(fsKind.ops).map(([name, op]) => [name, op.right]));
    expect(rights).toEqual({
      readText: "read",
      readBytes: "read",
      writeText: "write",
      writeBytes: "write",
      list: "list",
      stat: "read",
      mkdir: "create",
      remove: "delete",
      rename: "delete",
    });
  });

  test("reads text and bytes", async () => {
    const handle = await openHandle("read");
    expect(await call(handle, "readText", { path: "notes/a.txt" })).toBe("hello");
    expect(await call(handle, "readText", { path: "./notes//a.txt" })).toBe("hello");
    expect(await call(handle, "readText", { path: "sub/../notes/a.txt" })).toBe("hello");
    const bytes = await call(handle, "readBytes", { path: "notes/a.txt" });
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(bytes as Uint8Array).toString()).toBe("hello");
    expect((await failure(call(handle, "readText", { path: "notes" }))).code).toBe("IS_A_DIRECTORY");
    expect((await failure(call(handle, "readText", { path: "" }))).code).toBe("IS_A_DIRECTORY");
    expect((await failure(call(handle, "readText", { path: "nope.txt" }))).code).toBe("NOT_FOUND");
    expect((await failure(call(handle, "readText", { path: "notes/a.txt/x" }))).code).toBe("NOT_A_DIRECTORY");
  });

  test("writes, appends and overwrites; a new file also needs create", async () => {
    const writeOnly = await openHandle("write");
    await call(writeOnly, "writeText", { path: "notes/a.txt", text: "replaced" });
    await call(writeOnly, "writeText", { path: "notes/a.txt", text: "+more", append: true });
    expect(await readFile(join(root, "notes", "a.txt"), "utf8")).toBe("replaced+more");
    const denied = await failure(call(writeOnly, "writeText", { path: "new.txt", text: "x" }));
    expect(denied.code).toBe("CAPABILITY_DENIED");
    expect(denied.message).toContain('"create"');
    expect(denied.denial).toEqual({ handle: "files", right: "create", grant: `fs:write,create:${root}` });
    await expect(stat(join(root, "new.txt"))).rejects.toThrow();

    const creator = await openHandle("write,create");
    await call(creator, "writeText", { path: "new.txt", text: "fresh" });
    await call(creator, "writeBytes", { path: "notes/b.bin", bytes: new Uint8Array([1, 2, 3]) });
    await call(creator, "writeBytes", { path: "notes/b.bin", bytes: new Uint8Array([4]), append: true });
    expect(await readFile(join(root, "new.txt"), "utf8")).toBe("fresh");
    expect([...(await readFile(join(root, "notes", "b.bin")))]).toEqual([1, 2, 3, 4]);
    expect((await failure(call(creator, "writeText", { path: "notes", text: "x" }))).code).toBe(
      "IS_A_DIRECTORY",
    );
    expect((await failure(call(creator, "writeText", { path: "no/such.txt", text: "x" }))).code).toBe(
      "NOT_FOUND",
    );
  });

  test("lists a directory sorted by name, with types", async () => {
    const handle = await openHandle("list");
    expect(await call(handle, "list", {})).toEqual([
      { name: "abs-link", type: "symlink" },
      { name: "chain1", type: "symlink" },
      { name: "chain2", type: "symlink" },
      { name: "dangling", type: "symlink" },
      { name: "evil-link", type: "symlink" },
      { name: "indir", type: "symlink" },
      { name: "inlink", type: "symlink" },
      { name: "notes", type: "directory" },
      { name: "outdir", type: "symlink" },
      { name: "rel-link", type: "symlink" },
      { name: "sub", type: "directory" },
    ]);
    expect(await call(handle, "list", { path: "notes/" })).toEqual([{ name: "a.txt", type: "file" }]);
    expect((await failure(call(handle, "list", { path: "notes/a.txt" }))).code).toBe("NOT_A_DIRECTORY");
  });

  test("stat reports lstat facts: a symlink is a symlink", async () => {
    const handle = await openHandle("read");
    const file = await call(handle, "stat", { path: "notes/a.txt" });
    expect(file).toMatchObject({ type: "file", size: 5, mtimeMs: expect.any(Number) });
    expect(await call(handle, "stat", { path: "" })).toMatchObject({ type: "directory" });
    expect(await call(handle, "stat", { path: "notes" })).toMatchObject({ type: "directory" });
    expect(await call(handle, "stat", { path: "outdir" })).toMatchObject({ type: "symlink" });
    expect((await failure(call(handle, "stat", { path: "notes/a.txt/" }))).code).toBe("NOT_A_DIRECTORY");
  });

  test("mkdir, plain and recursive", async () => {
    const handle = await openHandle("create");
    await call(handle, "mkdir", { path: "made" });
    await call(handle, "mkdir", { path: "deep/er/est", recursive: true });
    await call(handle, "mkdir", { path: "deep/er", recursive: true });
    expect((await stat(join(root, "made"))).isDirectory()).toBe(true);
    expect((await stat(join(root, "deep", "er", "est"))).isDirectory()).toBe(true);
    expect((await failure(call(handle, "mkdir", { path: "made" }))).code).toBe("ALREADY_EXISTS");
    expect((await failure(call(handle, "mkdir", { path: "x/y" }))).code).toBe("NOT_FOUND");
  });

  test("remove files, empty and full directories, and a symlink (never its target)", async () => {
    const handle = await openHandle("delete");
    await mkdir(join(root, "empty"));
    await mkdir(join(root, "full", "inner"), { recursive: true });
    await writeFile(join(root, "full", "inner", "f"), "x");
    // A name that is not valid UTF-8 must not stop a recursive remove.
    await writeFile(Buffer.concat([Buffer.from(`${root}/full/inner/`), Buffer.from([0x66, 0xff])]), "x");
    await call(handle, "remove", { path: "notes/a.txt" });
    await call(handle, "remove", { path: "empty/" });
    expect((await failure(call(handle, "remove", { path: "full" }))).code).toBe("NOT_EMPTY");
    await call(handle, "remove", { path: "full", recursive: true });
    const before = snapshotOutside();
    await call(handle, "remove", { path: "outdir", recursive: true });
    await call(handle, "remove", { path: "rel-link" });
    expect(snapshotOutside()).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(
      ["abs-link", "chain1", "chain2", "dangling", "evil-link", "indir", "inlink", "notes", "sub"].sort(),
    );
  });

  test("rename needs delete and create", async () => {
    const handle = await openHandle("delete,create");
    await call(handle, "rename", { from: "notes/a.txt", to: "sub/b.txt" });
    await call(handle, "rename", { from: "sub", to: "notes/sub2" });
    expect(await readFile(join(root, "notes", "sub2", "b.txt"), "utf8")).toBe("hello");
    expect((await failure(call(handle, "rename", { from: "notes", to: "notes/inside" }))).code).toBe(
      "INVALID_ARGUMENT",
    );

    // The kernel checks both rights before run(); the op declares the second one.
    expect(fsKind.ops.rename?.right).toBe("delete");
    expect(fsKind.ops.rename?.alsoRequires).toEqual(["create"]);
    expect((await stat(join(root, "notes"))).isDirectory()).toBe(true);
  });

  test("reads and writes are capped at 8 MiB", async () => {
    const handle = await openHandle();
    await writeFile(join(root, "big.bin"), "");
    await truncate(join(root, "big.bin"), 8 * 1024 * 1024 + 1);
    const error = await failure(call(handle, "readBytes", { path: "big.bin" }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("larger than");
    await truncate(join(root, "big.bin"), 8 * 1024 * 1024);
    expect(((await call(handle, "readBytes", { path: "big.bin" })) as Uint8Array).byteLength).toBe(
      8 * 1024 * 1024,
    );
    const huge = new Uint8Array(8 * 1024 * 1024 + 1);
    expect((await failure(call(handle, "writeBytes", { path: "w.bin", bytes: huge }))).code).toBe(
      "LIMIT_EXCEEDED",
    );
    await expect(stat(join(root, "w.bin"))).rejects.toThrow();
  });

  test("summaries name the op and path, never the contents", () => {
    const ops = fsKind.ops;
    expect(ops.readText?.summary({ path: "notes/a.txt" })).toBe("readText notes/a.txt");
    expect(ops.writeText?.summary({ path: "out.txt", text: "hello world!" })).toBe(
      "writeText out.txt (12 bytes)",
    );
    expect(ops.writeBytes?.summary({ path: "o", bytes: new Uint8Array(3), append: true })).toBe(
      "writeBytes o (3 bytes, append)",
    );
    expect(ops.rename?.summary({ from: "a", to: "b" })).toBe("rename a -> b");
    expect(ops.list?.summary({ path: "" })).toBe("list .");
    expect(ops.readText?.summary({ path: "a\nforged line" })).toBe("readText a\\nforged line");
  });

  test("guest arguments are parsed strictly", () => {
    expect(fsKind.ops.readText?.args.safeParse({ path: 1 }).success).toBe(false);
    expect(fsKind.ops.readText?.args.safeParse({ path: "a", extra: true }).success).toBe(false);
    expect(fsKind.ops.writeBytes?.args.safeParse({ path: "a", bytes: [1, 2] }).success).toBe(false);
    expect(fsKind.ops.list?.args.parse({})).toEqual({ path: "" });
  });
});

describe("the handle is bound to the directory, not its path", () => {
  test("renaming the root and putting something else at its path does not redirect the handle", async () => {
    const handle = await openHandle();
    await rename(root, join(tmp, "root-moved"));
    await symlink("outside", root);
    expect(await call(handle, "readText", { path: "notes/a.txt" })).toBe("hello");
    expect((await failure(call(handle, "readText", { path: "secret.txt" }))).code).toBe("NOT_FOUND");
    // A fresh open of the grant's path now meets a symlink and refuses.
    expect((await failure(fsKind.open(handle.grant))).code).toBe("CAPABILITY_DENIED");
  });

  test("a closed handle refuses every call", async () => {
    const handle = await openHandle();
    await fsKind.close(handle.resource);
    opened.splice(opened.indexOf(handle.resource), 1);
    expect((await failure(call(handle, "readText", { path: "notes/a.txt" }))).code).toBe("CAPABILITY_DENIED");
  });

  test("narrow gives a subdirectory's realpath, reached through the parent's fd", async () => {
    const handle = await openHandle();
    const scope = await fsKind.narrow(handle, { path: "notes" });
    expect(scope).toEqual({ root: join(root, "notes") });
    const child = {
      grant: { rights: ["read"], scope },
      resource: await fsKind.open({ rights: ["read"], scope }),
    };
    opened.push(child.resource);
    expect(await call(child, "readText", { path: "a.txt" })).toBe("hello");
    expect((await failure(call(child, "readText", { path: "../sub/secret.txt" }))).code).toBe(
      "CAPABILITY_DENIED",
    );
    expect(await fsKind.narrow(handle, { path: "" })).toEqual({ root });
  });

  test("a subdirectory named like a parent climb (..hidden, ...) is an ordinary name to narrow and open", async () => {
    const handle = await openHandle();
    for (const name of ["..hidden", "...", "..a/b.."]) {
      await mkdir(join(root, name), { recursive: true });
      await writeFile(join(root, name, "f.txt"), name);
      const scope = await fsKind.narrow(handle, { path: name });
      expect(scope).toEqual({ root: join(root, name) });
      const child = {
        grant: { rights: ["read"], scope },
        resource: await fsKind.open({ rights: ["read"], scope }, handle),
      };
      opened.push(child.resource);
      expect(await call(child, "readText", { path: "f.txt" })).toBe(name);
    }
  });

  test("a path with a lone surrogate is refused, not opened as its U+FFFD neighbour", async () => {
    await writeFile(join(root, "a\ufffd"), "replacement");
    const handle = await openHandle();
    for (const [op, args] of [
      ["readText", { path: "a\ud800" }],
      ["stat", { path: "notes/\udc00" }],
      ["writeText", { path: "a\ud801", text: "x" }],
    ] as const) {
      const error = await failure(call(handle, op, args));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain("lone surrogate");
    }
    expect((await failure(fsKind.narrow(handle, { path: "notes\ud800" }))).code).toBe("INVALID_ARGUMENT");
    expect(await readFile(join(root, "a\ufffd"), "utf8")).toBe("replacement");
  });

  test.each([
    ["a symlink to a directory outside", "outdir", "CAPABILITY_DENIED"],
    ["a symlink to a directory inside", "indir", "CAPABILITY_DENIED"],
    ["a parent path", "..", "CAPABILITY_DENIED"],
    ["a sibling", "../root-evil", "CAPABILITY_DENIED"],
    ["an absolute path", "/tmp", "CAPABILITY_DENIED"],
    ["a file", "notes/a.txt", "NOT_A_DIRECTORY"],
  ])("narrow refuses %s", async (_name, path, code) => {
    const handle = await openHandle();
    const error = await failure(fsKind.narrow(handle, { path }));
    expect(error.code).toBe(code);
    expect(error.message).not.toContain(tmp);
  });
});

interface Trick {
  name: string;
  op: string;
  args: Record<string, unknown>;
  code: string;
}

const tricks: Trick[] = [
  { name: "the parent", op: "list", args: { path: ".." }, code: "CAPABILITY_DENIED" },
  {
    name: "a file beside the root",
    op: "readText",
    args: { path: "../outside/secret.txt" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "climbing out via a subdir",
    op: "list",
    args: { path: "notes/../../outside" },
    code: "CAPABILITY_DENIED",
  },
  { name: "absolute /etc/passwd", op: "readText", args: { path: "/etc/passwd" }, code: "CAPABILITY_DENIED" },
  {
    name: "absolute /proc/self/environ",
    op: "readText",
    args: { path: "/proc/self/environ" },
    code: "CAPABILITY_DENIED",
  },
  { name: "backslash-rooted", op: "readText", args: { path: "\\etc\\passwd" }, code: "CAPABILITY_DENIED" },
  {
    name: "a sibling with the root's prefix",
    op: "readText",
    args: { path: "../root-evil/x" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "writing into the sibling",
    op: "writeText",
    args: { path: "../root-evil/y", text: "pwn" },
    code: "CAPABILITY_DENIED",
  },
  { name: "an absolute symlink out", op: "readText", args: { path: "abs-link" }, code: "CAPABILITY_DENIED" },
  { name: "a relative symlink out", op: "readText", args: { path: "rel-link" }, code: "CAPABILITY_DENIED" },
  { name: "chained symlinks", op: "readText", args: { path: "chain1" }, code: "CAPABILITY_DENIED" },
  {
    name: "a symlinked dir to the sibling",
    op: "readText",
    args: { path: "evil-link/x" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "reading through a symlinked dir",
    op: "readText",
    args: { path: "outdir/secret.txt" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "bytes through a symlinked dir",
    op: "readBytes",
    args: { path: "outdir/secret.txt" },
    code: "CAPABILITY_DENIED",
  },
  { name: "listing a symlinked dir", op: "list", args: { path: "outdir" }, code: "CAPABILITY_DENIED" },
  {
    name: "stat through a symlinked dir",
    op: "stat",
    args: { path: "outdir/secret.txt" },
    code: "CAPABILITY_DENIED",
  },
  // Refused on purpose: following no symlink at all is what makes lexical ".." sound.
  {
    name: "a symlink that stays inside",
    op: "readText",
    args: { path: "inlink" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "a symlinked dir that stays inside",
    op: "list",
    args: { path: "indir" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "trailing slash on a file",
    op: "readText",
    args: { path: "notes/a.txt/" },
    code: "NOT_A_DIRECTORY",
  },
  {
    name: "trailing slash on a dir symlink",
    op: "list",
    args: { path: "outdir/" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "trailing slash read of a dir symlink",
    op: "readText",
    args: { path: "outdir/" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "stat with trailing slash on a symlink",
    op: "stat",
    args: { path: "outdir/" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "a NUL byte",
    op: "readText",
    args: { path: "notes/a.txt\0../../outside" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "writing through a symlink",
    op: "writeText",
    args: { path: "rel-link", text: "pwn" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "appending through a symlink",
    op: "writeText",
    args: { path: "abs-link", text: "pwn", append: true },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "bytes through chained symlinks",
    op: "writeBytes",
    args: { path: "chain1", bytes: new Uint8Array([1]) },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "creating through a dangling symlink",
    op: "writeText",
    args: { path: "dangling", text: "pwn" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "creating in a symlinked dir",
    op: "writeText",
    args: { path: "outdir/new.txt", text: "pwn" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "mkdir in a symlinked dir",
    op: "mkdir",
    args: { path: "outdir/newdir" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "mkdir -p through a symlinked dir",
    op: "mkdir",
    args: { path: "outdir/a/b", recursive: true },
    code: "CAPABILITY_DENIED",
  },
  { name: "mkdir over a dangling symlink", op: "mkdir", args: { path: "dangling" }, code: "ALREADY_EXISTS" },
  { name: "mkdir outside", op: "mkdir", args: { path: "../outside/newdir" }, code: "CAPABILITY_DENIED" },
  {
    name: "remove through a symlinked dir",
    op: "remove",
    args: { path: "outdir/secret.txt" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "remove -r of a dir symlink with a slash",
    op: "remove",
    args: { path: "outdir/", recursive: true },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "rmdir of a dir symlink with a slash",
    op: "remove",
    args: { path: "outdir/" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "remove outside",
    op: "remove",
    args: { path: "../outside/secret.txt" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "rename out of a symlinked dir",
    op: "rename",
    args: { from: "outdir/secret.txt", to: "stolen.txt" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "rename into a symlinked dir",
    op: "rename",
    args: { from: "notes/a.txt", to: "outdir/a.txt" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "rename to outside",
    op: "rename",
    args: { from: "notes/a.txt", to: "../outside/a.txt" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "rename to an absolute path",
    op: "rename",
    args: { from: "notes", to: `/tmp/warden-stolen` },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "renaming a symlink",
    op: "rename",
    args: { from: "rel-link", to: "notes/rel-link" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: 'removing the root by ""',
    op: "remove",
    args: { path: "", recursive: true },
    code: "CAPABILITY_DENIED",
  },
  { name: "removing the root by .", op: "remove", args: { path: "." }, code: "CAPABILITY_DENIED" },
  {
    name: "removing the root by a/..",
    op: "remove",
    args: { path: "notes/..", recursive: true },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "renaming the root",
    op: "rename",
    args: { from: ".", to: "notes/root" },
    code: "CAPABILITY_DENIED",
  },
  {
    name: "renaming over the root",
    op: "rename",
    args: { from: "notes", to: "" },
    code: "CAPABILITY_DENIED",
  },
  { name: "too many components", op: "readText", args: { path: "a/".repeat(300) }, code: "INVALID_ARGUMENT" },
  { name: "too long a path", op: "readText", args: { path: "x".repeat(5000) }, code: "INVALID_ARGUMENT" },
];

describe("no path escapes the handle", () => {
  test.each(tricks)("$name ($op) is $code", async ({ op, args, code }) => {
    const handle = await openHandle();
    const before = snapshotOutside();
    const error = await failure(call(handle, op, args));
    expect(error.code).toBe(code);
    expect(error.message).not.toContain(tmp);
    expect(error.message).not.toContain("/proc/self/fd");
    expect(error.message).not.toContain(SECRET);
    expect(snapshotOutside()).toEqual(before);
  });

  test("a directory swapped for a symlink mid-read never yields the outside file", async () => {
    const handle = await openHandle();
    await symlink("../outside", join(root, "sub-link"));
    // The swapper runs until told to stop, and the readers read until both sides of the race were seen
    // (a bounded count of reads, not a span of time: a busy machine slows the race, never ends it early).
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const swapper = new Worker(
      `const { renameSync } = require("node:fs");
       const { workerData, parentPort } = require("node:worker_threads");
       const at = (name) => workerData.root + "/" + name;
       let swaps = 0;
       while (Atomics.load(workerData.stop, 0) === 0) {
         renameSync(at("sub"), at("sub-real"));
         renameSync(at("sub-link"), at("sub"));
         renameSync(at("sub"), at("sub-link"));
         renameSync(at("sub-real"), at("sub"));
         swaps++;
       }
       parentPort.postMessage(swaps);`,
      { eval: true, workerData: { root, stop } },
    );
    const swaps = new Promise<number>((resolve, reject) => {
      swapper.once("message", resolve);
      swapper.once("error", reject);
    });
    const outcomes: Record<string, number> = {};
    const seenBothSides = () => (outcomes.read ?? 0) > 0 && Object.keys(outcomes).length > 1;
    let reads = 0;
    const reader = async (): Promise<void> => {
      while (reads < 20_000 && !(seenBothSides() && reads >= 200)) {
        reads++;
        try {
          const text = await call(handle, "readText", { path: "sub/secret.txt" });
          expect(text).toBe("harmless");
          outcomes.read = (outcomes.read ?? 0) + 1;
        } catch (error) {
          if (!(error instanceof WardenError)) throw error;
          expect(["CAPABILITY_DENIED", "NOT_FOUND", "NOT_A_DIRECTORY"]).toContain(error.code);
          expect(error.message).not.toContain(SECRET);
          outcomes[error.code] = (outcomes[error.code] ?? 0) + 1;
        }
      }
    };
    try {
      await Promise.all([reader(), reader(), reader(), reader()]);
    } finally {
      Atomics.store(stop, 0, 1);
    }
    expect(await swaps).toBeGreaterThan(0);
    // Both sides of the race were seen: some reads landed on the real dir, some met the swap and failed.
    expect(outcomes.read ?? 0).toBeGreaterThan(0);
    expect(Object.keys(outcomes).length).toBeGreaterThan(1);
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe(SECRET);
  });
});
