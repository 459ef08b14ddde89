// The kv kind's definition: its host side, its policy entry (`kv: { rights, shared }`) and its words.
import { z } from "zod";
import { rightsOf, strict } from "../../policy/fields.ts";
import { defineKind } from "../kind.ts";
import { createKvKind, KV_RIGHTS, kvGrant } from "./index.ts";
import type { KvStore } from "./store.ts";

const entry = strict(
  {
    rights: rightsOf("kv", KV_RIGHTS).optional().describe("Default: all of read, write, delete, list."),
    shared: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, "a store name is 1-64 letters, digits, '.', '_' or '-'")
      .optional()
      .describe(
        "A named store shared on purpose by every tool granted it; default: the tool's private store.",
      ),
  },
  "a kv grant",
);

export const kv = defineKind({
  name: "kv",
  rights: KV_RIGHTS,
  words: "use a key-value store",
  exampleScope: "",
  policy: {
    schema: entry,
    grant(entry, env) {
      // kv keys stores by the tool file's real path; without one the policy already reports `source`.
      if (env.identity === undefined) return undefined;
      const rights = KV_RIGHTS.filter((right) => (entry.rights ?? KV_RIGHTS).includes(right));
      return kvGrant(rights, entry.shared, env);
    },
  },
  create: (services: { kvStore: KvStore }) => createKvKind(services.kvStore),
});
