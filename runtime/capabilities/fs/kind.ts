// The fs kind, whole: its host side, its policy entry (`fs: { root, rights }`), its WIT name and its words.
import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { rightsOf, strict } from "../../policy/fields.ts";
import { defineKind } from "../kind.ts";
import { fsKind } from "./index.ts";
import { canonicalRights, FS_RIGHTS } from "./spec.ts";

const entry = strict(
  {
    root: z.string().min(1).describe("The directory granted, relative to the policy file (or absolute)."),
    rights: rightsOf("fs", FS_RIGHTS).describe("read, write (change a file), create, delete, list."),
  },
  "an fs grant",
);

export const fs = defineKind({
  name: "fs",
  rights: FS_RIGHTS,
  words: "read or change files",
  exampleScope: ":DIR",
  wit: { interface: "fs", resource: "Dir" },
  policy: {
    schema: entry,
    grant(entry, env, problem) {
      const root = resolve(env.cwd, entry.root);
      let real: string | undefined;
      try {
        real = realpathSync(root);
        if (!statSync(real).isDirectory()) real = undefined;
      } catch {
        real = undefined;
      }
      if (real === undefined) {
        problem(["root"], `${root} is not a directory; root is relative to the policy file`);
        return undefined;
      }
      return { rights: canonicalRights(entry.rights), scope: { root: real } };
    },
  },
  create: () => fsKind,
});
