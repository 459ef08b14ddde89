// Shared shapes of the fs kind's operations.
import type { Operation } from "../types.ts";
import type { RootDir } from "./resource.ts";
import type { FsScope } from "./spec.ts";

export type FsResource = RootDir;
export type FsOperation<Args> = Operation<FsScope, FsResource, Args>;

/** Largest file a single read returns and largest payload a single write accepts. */
export const MAX_IO_BYTES = 8 * 1024 * 1024;
