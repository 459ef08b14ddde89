// The kind registries agree: the host's (runtime/capabilities/index.ts), the guest's (guest.ts) and the WIT
// registry (wit.ts), which sandbox code imports instead, name the same kinds; warden.wit is assembled from them.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { GUEST_ADAPTERS } from "../../runtime/capabilities/guest.ts";
import { createKinds, KINDS } from "../../runtime/capabilities/index.ts";
import { MemoryKvStore } from "../../runtime/capabilities/kv/store.ts";
import { WIT_ADAPTERS } from "../../runtime/capabilities/wit.ts";
import { CAPABILITY_INTERFACES } from "../../runtime/isolates/wasm/imports.ts";
import { GRANT_KINDS, grantSchema } from "../../runtime/policy/schema.ts";
import { assembleWit, WIT_FILE } from "../../scripts/build-wit.ts";

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

  test("the policy schema has one field per kind, but for the agent-only kinds", () => {
    const grantable = KINDS.filter((k) => !k.agentOnly).map((k) => k.name);
    expect(KINDS.filter((k) => k.agentOnly).map((k) => k.name)).toEqual(["conversation", "tool"]);
    expect(GRANT_KINDS).toEqual(grantable);
    expect(Object.keys(grantSchema.shape)).toEqual(grantable);
  });

  test("the WIT registry's kinds are host kinds, in the host's order, and a component may import each interface", () => {
    const names = KINDS.map((k) => k.name);
    const witKinds = WIT_ADAPTERS.map((a) => a.kind);
    expect(witKinds.filter((k) => !names.includes(k))).toEqual([]);
    expect(witKinds).toEqual(names.filter((n) => witKinds.includes(n)));
    expect(new Set(witKinds).size).toBe(witKinds.length);
    expect([...CAPABILITY_INTERFACES]).toEqual(WIT_ADAPTERS.map((a) => [a.interface, a.kind]));
  });

  test("tools-wasm/wit/warden.wit is the package assembled from the kinds' interfaces (npm run build:wit)", () => {
    // assembleWit also refuses a kind whose <kind>.wit does not declare the interface and resource its wit.ts names.
    expect(readFileSync(WIT_FILE, "utf8")).toBe(assembleWit());
  });
});
