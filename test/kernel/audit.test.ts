// The audit trail of the gate: one record per decision, guest-safe, never holding contents.
import { describe, expect, test } from "vitest";
import { failure } from "../support/failure.ts";
import { dir, grant, SECRET, sandbox, world } from "./fixture.ts";

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
      const request =
        op === "$attenuate" ? kernel.attenuateCall(sb, n, args) : kernel.invoke(sb, n, op, args);
      await request.catch(() => undefined);
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

  test("a guest's attenuation is audited in its kind's guest-safe form: a net child names its origins", async () => {
    const { kernel, audit } = world();
    const sb = sandbox(kernel, "toolA");
    const api = await grant(
      kernel,
      sb,
      "api",
      "net:GET,POST:https://a.example.com,https://b.example.com:8443",
    );
    await kernel.attenuateCall(sb, api, { rights: ["GET"], origins: ["https://b.example.com:8443"] });
    expect(audit.records.at(-1)).toMatchObject({
      event: "call",
      op: "$attenuate",
      kind: "net",
      summary: "net:GET:https://b.example.com:8443",
      decision: "allow",
    });
    const files = await grant(kernel, sb, "files", `fs:read,list:${dir}`);
    await kernel.attenuateCall(sb, files, { path: "sub", rights: ["read"] });
    expect(audit.records.at(-1)?.summary).toBe("fs:read");
    expect(JSON.stringify(audit.records.at(-1))).not.toContain(dir);
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
