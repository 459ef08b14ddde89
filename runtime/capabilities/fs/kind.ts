// The fs kind's definition: its host side, its policy entry (`fs: { root, rights }`) and its words.
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { z } from "zod";
import { rightsOf, strict } from "../../policy/fields.ts";
import { defineKind } from "../kind.ts";
import { fsKind } from "./index.ts";
import { canonicalRights, FS_RIGHTS } from "./spec.ts";

const entry = strict(
  {
    root: z
      .string()
      .min(1)
      .describe(
        "The directory granted, or one file (then list is refused), relative to the policy file (or absolute).",
      ),
    rights: rightsOf("fs", FS_RIGHTS).describe("read, write (change a file), create, delete, list."),
  },
  "an fs grant",
);

export const fs = defineKind({
  name: "fs",
  rights: FS_RIGHTS,
  words: "read or change files",
  exampleScope: ":DIR",
  policy: {
    schema: entry,
    grant(entry, env, problem) {
      // root names a directory, or one file (a one-file grant, as `fs:read:./config.json` on the CLI).
      const root = resolve(env.cwd, entry.root);
      let real: string | undefined;
      let isFile = false;
      try {
        real = realpathSync(root);
        const stats = statSync(real);
        isFile = stats.isFile();
        if (!isFile && !stats.isDirectory()) real = undefined;
      } catch {
        real = undefined;
      }
      if (real === undefined) {
        problem(["root"], `${root} is not a directory or a file; root is relative to the policy file`);
        return undefined;
      }
      const rights = canonicalRights(entry.rights);
      if (!isFile) return { rights, scope: { root: real } };
      if (rights.includes("list")) {
        const at = entry.rights.indexOf("list");
        problem(
          ["rights", at],
          `${root} is a file, and the "list" right lists a directory; grant the directory to list it`,
        );
        return undefined;
      }
      return { rights, scope: { root: dirname(real), file: basename(real) } };
    },
  },
  create: () => fsKind,
});
