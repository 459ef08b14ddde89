// The policy's pure decision agrees with the real kernel: every case runs through both, and must match.
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuditLog } from "../../runtime/audit.ts";
import { createClockKind } from "../../runtime/capabilities/clock/index.ts";
import { fsKind } from "../../runtime/capabilities/fs/index.ts";
import { createKvKind } from "../../runtime/capabilities/kv/index.ts";
import { MemoryKvStore } from "../../runtime/capabilities/kv/store.ts";
import { createLogKind } from "../../runtime/capabilities/log/index.ts";
import { createNetKind } from "../../runtime/capabilities/net/index.ts";
import type { CapabilityKind } from "../../runtime/capabilities/types.ts";
import { WardenError } from "../../runtime/errors.ts";
import { Kernel } from "../../runtime/kernel.ts";
import { decide } from "../../runtime/policy/decide.ts";
import { ATTENUATE_OP } from "../../runtime/protocol/codec.ts";
import { runningSandbox } from "../support/kernel.ts";
import { tempDir } from "../support/tools.ts";

/** Codes by which the kernel refuses a call on its merits; anything else (NOT_FOUND, ...) means it let the call through. */
const REFUSALS = new Set(["CAPABILITY_DENIED", "INVALID_ARGUMENT"]);

let root = "";
let port = 0;
let server: http.Server;

beforeAll(async () => {
  root = tempDir("warden-decide-");
  writeFileSync(join(root, "a.txt"), "a");
  mkdirSync(join(root, "sub"));
  writeFileSync(join(root, "sub", "b.txt"), "b");
  server = http.createServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  port = address.port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function kernel(): Kernel {
  const kinds = [
    fsKind,
    createNetKind(),
    createKvKind(new MemoryKvStore()),
    createClockKind(),
    createLogKind(() => undefined),
  ] as CapabilityKind[];
  return new Kernel({ kinds, audit: new AuditLog([]) });
}

interface Case {
  spec: () => string;
  op: string;
  args: () => unknown;
  allow: boolean;
}

const fsAll = () => `fs:read,write,create,delete,list:${root}`;
const local = (path = "/") => `http://127.0.0.1:${port}${path}`;

// In order: later fs cases see what earlier ones wrote.
const CASES: Case[] = [
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: "a.txt" }), allow: true },
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: "sub/../a.txt" }), allow: true },
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: "missing.txt" }), allow: true },
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: "../a.txt" }), allow: false },
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: "sub/../../a.txt" }), allow: false },
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: "/etc/passwd" }), allow: false },
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: "a\u0000b" }), allow: false },
  {
    spec: () => `fs:read:${root}`,
    op: "readText",
    args: () => ({ path: `${"x".repeat(300)}` }),
    allow: false,
  },
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: 5 }), allow: false },
  { spec: () => `fs:read:${root}`, op: "readText", args: () => ({ path: "a.txt", extra: 1 }), allow: false },
  {
    spec: () => `fs:read:${root}`,
    op: "writeText",
    args: () => ({ path: "a.txt", text: "x" }),
    allow: false,
  },
  { spec: () => `fs:read:${root}`, op: "list", args: () => ({ path: "" }), allow: false },
  { spec: () => `fs:read:${root}`, op: "stat", args: () => ({ path: "sub" }), allow: true },
  { spec: () => `fs:read:${root}`, op: "chmod", args: () => ({ path: "a.txt" }), allow: false },
  { spec: () => `fs:read:${root}`, op: "constructor", args: () => ({}), allow: false },
  {
    spec: () => `fs:write:${root}`,
    op: "writeText",
    args: () => ({ path: "a.txt", text: "y" }),
    allow: true,
  },
  { spec: fsAll, op: "writeText", args: () => ({ path: "new.txt", text: "n" }), allow: true },
  { spec: fsAll, op: "mkdir", args: () => ({ path: "d" }), allow: true },
  { spec: fsAll, op: "rename", args: () => ({ from: "new.txt", to: "d/new.txt" }), allow: true },
  { spec: fsAll, op: "rename", args: () => ({ from: "d/new.txt", to: "../escaped.txt" }), allow: false },
  {
    spec: () => `fs:read,delete:${root}`,
    op: "rename",
    args: () => ({ from: "a.txt", to: "c.txt" }),
    allow: false,
  },
  { spec: fsAll, op: "list", args: () => ({ path: "d/" }), allow: true },
  { spec: fsAll, op: "remove", args: () => ({ path: "d", recursive: true }), allow: true },
  { spec: () => `net:GET:${local()}`, op: "fetch", args: () => ({ url: local("/x?q=1") }), allow: true },
  {
    spec: () => `net:GET:${local()}`,
    op: "fetch",
    args: () => ({ url: local("/x"), method: "get" }),
    allow: true,
  },
  {
    spec: () => `net:GET:${local()}`,
    op: "fetch",
    args: () => ({ url: local("/x"), method: "POST" }),
    allow: false,
  },
  {
    spec: () => `net:GET,POST:${local()}`,
    op: "fetch",
    args: () => ({ url: local(), method: "POST" }),
    allow: true,
  },
  {
    spec: () => `net:GET:${local()}`,
    op: "fetch",
    args: () => ({ url: `http://127.0.0.2:${port}/` }),
    allow: false,
  },
  {
    spec: () => `net:GET:${local()}`,
    op: "fetch",
    args: () => ({ url: `http://localhost:${port}/` }),
    allow: false,
  },
  {
    spec: () => `net:GET:${local()}`,
    op: "fetch",
    args: () => ({ url: `http://u:p@127.0.0.1:${port}/` }),
    allow: false,
  },
  {
    spec: () => `net:GET:${local()}`,
    op: "fetch",
    args: () => ({ url: "file:///etc/passwd" }),
    allow: false,
  },
  { spec: () => "kv:read", op: "get", args: () => ({ key: "k" }), allow: true },
  { spec: () => "kv:read", op: "set", args: () => ({ key: "k", value: 1 }), allow: false },
  { spec: () => "kv", op: "set", args: () => ({ key: "k", value: 1 }), allow: true },
  { spec: () => "kv:read,list", op: "list", args: () => ({}), allow: true },
  { spec: () => "kv", op: "delete", args: () => ({ key: "" }), allow: false },
  { spec: () => "clock:read", op: "now", args: () => ({}), allow: true },
  { spec: () => "clock:read", op: "sleep", args: () => ({ ms: 1 }), allow: false },
  { spec: () => "clock", op: "sleep", args: () => ({ ms: 1 }), allow: true },
  { spec: () => "log", op: "write", args: () => ({ level: "info", message: "hi" }), allow: true },
  { spec: () => "log", op: "write", args: () => ({ level: "shout", message: "hi" }), allow: false },
  {
    spec: () => `fs:read:${root}`,
    op: "$attenuate",
    args: () => ({ rights: ["read"], path: "sub" }),
    allow: true,
  },
  { spec: () => "kv:read", op: "$attenuate", args: () => ({ prefix: "a/" }), allow: true },
];

describe("decide() and Kernel.invoke() agree", () => {
  const k = kernel();
  for (const [i, c] of CASES.entries()) {
    test(`case ${i}: ${c.op} is ${c.allow ? "allowed" : "denied"}`, async () => {
      const { kind, grant } = k.parseSpec(c.spec(), { cwd: root, identity: "/tools/t.js" });
      const decision = decide(kind, grant, "h", c.op, c.args());
      const sb = runningSandbox(k, "t");
      const fd = await k.grant(sb, "h", kind, grant);
      let refusal: WardenError | undefined;
      try {
        // Attenuation is the gate's own operation, not one of the kind's (the bridge routes it the same way).
        if (c.op === ATTENUATE_OP) await k.attenuateCall(sb, fd, c.args());
        else await k.invoke(sb, fd, c.op, c.args());
      } catch (error) {
        if (!(error instanceof WardenError)) throw error;
        refusal = error;
      }
      const kernelAllowed = refusal === undefined || !REFUSALS.has(refusal.code);
      expect({ decide: decision.allow, kernel: kernelAllowed }).toEqual({ decide: c.allow, kernel: c.allow });
      // A denial is explained in the kernel's own words, not a paraphrase that could drift.
      if (!decision.allow) {
        expect({ code: decision.code, reason: decision.reason }).toEqual({
          code: refusal?.code,
          reason: refusal?.message,
        });
      }
      await k.disposeSandbox(sb);
    });
  }
});

test("a denial says why in the kernel's words", () => {
  const k = kernel();
  const { kind, grant } = k.parseSpec(`fs:read:${root}`, { cwd: root });
  expect(decide(kind, grant, "files", "writeText", { path: "a.txt", text: "x" })).toEqual({
    allow: false,
    code: "CAPABILITY_DENIED",
    reason: 'the "write" right is missing on handle "files" (fs; it has: read)',
  });
  expect(decide(kind, grant, "files", "readText", { path: "../x" })).toEqual({
    allow: false,
    code: "CAPABILITY_DENIED",
    reason: 'path "../x" is outside the handle\'s directory',
  });
});
