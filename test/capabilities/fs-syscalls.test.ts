// Small fs reads in few thread-pool round trips: on a local filesystem only the opens (path lookups) are
// asynchronous; fstat, read and close on the open fd are synchronous, and every size still reads whole.
import { createHook } from "node:async_hooks";
import { realpathSync } from "node:fs";
import { mkdir, mkdtemp, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { fsKind } from "../../runtime/capabilities/fs/index.ts";

const KIB = 1024;
let tmp: string;
let local = false;

beforeAll(async () => {
  tmp = realpathSync(await mkdtemp(join(tmpdir(), "warden-fs-syscalls-")));
  // ext2/3/4 and tmpfs: what the test machines' tmpdir is; elsewhere the synchronous path is not taken.
  local = [0xef53, 0x01021994].includes((await statfs(tmp)).type);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Counts libuv fs requests (each a thread-pool round trip) started while `fn` runs. */
async function fsRequests<T>(fn: () => Promise<T>): Promise<{ result: T; requests: number }> {
  let requests = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === "FSREQCALLBACK" || type === "FSREQPROMISE") requests++;
    },
  }).enable();
  try {
    const result = await fn();
    return { result, requests };
  } finally {
    hook.disable();
  }
}

test("a small read costs one round trip per path component; larger ones read whole too", async (context) => {
  if (!local) context.skip(); // the synchronous path is for local filesystems only; tmpdir is not one here
  await mkdir(join(tmp, "a", "b"), { recursive: true });
  const grant = fsKind.parseSpec(`read:${tmp}`, { cwd: tmp });
  const resource = await fsKind.open(grant);
  const op = fsKind.ops.readBytes!;
  try {
    for (const size of [0, 13, 64 * KIB, 64 * KIB + 1, 1024 * KIB]) {
      const content = Buffer.alloc(size, size % 251);
      for (const path of [`f${size}`, `a/b/f${size}`]) {
        await writeFile(join(tmp, path), content);
        const { result, requests } = await fsRequests(() =>
          op.run({ grant, resource }, op.args.parse({ path }), {
            signal: new AbortController().signal,
            handleName: "files",
          }),
        );
        expect(Buffer.from(result as Uint8Array).equals(content)).toBe(true);
        const components = path.split("/").length;
        // Small: the opens only. Larger: the read and the close go asynchronous too (each read of a large
        // file may wait on the disk), the fstat before them does not.
        if (size <= 64 * KIB) expect(requests).toBe(components);
        else expect(requests).toBeLessThanOrEqual(components + 3);
      }
    }
  } finally {
    await fsKind.close(resource);
  }
});
