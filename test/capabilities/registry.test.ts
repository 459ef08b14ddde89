// The kind registries agree: the host's (runtime/capabilities/index.ts), the guest's (guest.ts, which sandbox
// code imports instead) and the WIT package name the same kinds, and each kind's parts describe one kind.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { GUEST_ADAPTERS } from "../../runtime/capabilities/guest.ts";
import { createKinds, KINDS } from "../../runtime/capabilities/index.ts";
import { MemoryKvStore } from "../../runtime/capabilities/kv/store.ts";
import { CAPABILITY_INTERFACES } from "../../runtime/isolates/wasm/imports.ts";
import { GRANT_KINDS, grantSchema } from "../../runtime/policy/schema.ts";

const WIT = readFileSync(new URL("../../tools-wasm/wit/warden.wit", import.meta.url), "utf8");
const kebab = (name: string) => name.replace(/[A-Z]/g, (c, i: number) => `${i ? "-" : ""}${c.toLowerCase()}`);

describe("the kind registry", () => {
  test("the guest registry lists the host's kinds, in the same order", () => {
    expect(GUEST_ADAPTERS.map((a) => a.kind)).toEqual(KINDS.map((k) => k.name));
  });

  test("each kind's host side is the kind its definition names, with the same rights", () => {
    const hosts = createKinds({ kvStore: new MemoryKvStore(), log: () => undefined });
    expect(hosts.map((h) => ({ kind: h.kind, rights: [...h.rights] }))).toEqual(
      KINDS.map((k) => ({ kind: k.name, rights: [...k.rights] })),
    );
  });

  test("the policy schema has one field per kind, and a component may import each kind's WIT interface", () => {
    const grantable = KINDS.filter((k) => !k.agentOnly).map((k) => k.name);
    expect(KINDS.filter((k) => k.agentOnly).map((k) => k.name)).toEqual(["conversation", "tool"]);
    expect(GRANT_KINDS).toEqual(grantable);
    expect(Object.keys(grantSchema.shape)).toEqual(grantable);
    for (const kind of KINDS) {
      // Agent-only kinds (conversation, tool) have no WIT interface: components cannot import them.
      if (kind.agentOnly || !kind.wit) {
        expect(kind.agentOnly && kind.wit === undefined).toBe(true);
        continue;
      }
      expect(CAPABILITY_INTERFACES.get(kind.wit.interface)).toBe(kind.name);
      const iface = new RegExp(
        `^interface ${kind.wit.interface} \\{[\\s\\S]*?^  resource ${kebab(kind.wit.resource)} \\{`,
        "m",
      );
      expect(
        WIT,
        `warden.wit declares interface ${kind.wit.interface} with resource ${kind.wit.resource}`,
      ).toMatch(iface);
    }
  });
});
