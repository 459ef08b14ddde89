// The fs capability kind: a handle on one directory, or one file, that no guest path can escape.
import type { CapabilityKind } from "../types.ts";
import { withOneFileCheck as oneFile } from "./one-file.ts";
import { list, readBytes, readText, statOp } from "./read.ts";
import { narrowArgs, narrowScope, openBelow, openRoot } from "./root.ts";
import { canonicalRights, describeFs, FS_RIGHTS, type FsScope, formatFsSpec, parseFsSpec } from "./spec.ts";
import { mkdirOp, remove, renameOp } from "./tree.ts";
import type { FsResource } from "./types.ts";
import { writeBytes, writeText } from "./write.ts";

export type { FsScope } from "./spec.ts";
export type { FsResource } from "./types.ts";

export const fsKind: CapabilityKind<FsScope, FsResource> = {
  kind: "fs",
  rights: FS_RIGHTS,
  defaultRights: ["read", "list"],
  parseSpec: parseFsSpec,
  formatSpec: formatFsSpec,
  // The root is a host path, which a guest's audit trail must not carry: the rights alone.
  auditForm: (grant) => `fs:${canonicalRights(grant.rights).join(",")}`,
  describe: describeFs,
  open: (grant, parent) => (parent ? openBelow(grant.scope, parent) : openRoot(grant.scope)),
  close: (resource) => resource.close(),
  narrowArgs,
  narrow: narrowScope,
  // Every op is checked against a one-file grant's name before it runs (a no-op for directory grants).
  ops: {
    readText: oneFile(readText),
    readBytes: oneFile(readBytes),
    writeText: oneFile(writeText),
    writeBytes: oneFile(writeBytes),
    list: oneFile(list),
    stat: oneFile(statOp),
    mkdir: oneFile(mkdirOp),
    remove: oneFile(remove),
    rename: oneFile(renameOp),
  },
};
