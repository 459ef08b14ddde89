// The fs handle inside a JS sandbox: its methods and the types tool authors see. Guest code (no Node types).
import { defineGuestAdapter, type HandleBase } from "../guest-kind.ts";

export interface FsEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "other";
}
export interface FsStat {
  type: FsEntry["type"];
  size: number;
  mtimeMs: number;
}

export interface FsHandle extends HandleBase {
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  writeText(path: string, text: string, options?: { append?: boolean }): Promise<null>;
  writeBytes(path: string, bytes: Uint8Array, options?: { append?: boolean }): Promise<null>;
  list(path?: string): Promise<FsEntry[]>;
  stat(path: string): Promise<FsStat>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<null>;
  remove(path: string, options?: { recursive?: boolean }): Promise<null>;
  rename(from: string, to: string): Promise<null>;
  /** A handle to a subdirectory and/or with fewer rights. */
  attenuate(request: { path?: string; rights?: string[] }): Promise<FsHandle>;
}

export const fsGuest = defineGuestAdapter<FsHandle>()({
  kind: "fs",
  methods: (call) => ({
    readText: (path: string) => call("readText", { path }),
    readBytes: (path: string) => call("readBytes", { path }),
    writeText: (path: string, text: string, options?: { append?: boolean }) =>
      call("writeText", { path, text, ...options }),
    writeBytes: (path: string, bytes: Uint8Array, options?: { append?: boolean }) =>
      call("writeBytes", { path, bytes, ...options }),
    list: (path?: string) => call("list", { path: path ?? "" }),
    stat: (path: string) => call("stat", { path }),
    mkdir: (path: string, options?: { recursive?: boolean }) => call("mkdir", { path, ...options }),
    remove: (path: string, options?: { recursive?: boolean }) => call("remove", { path, ...options }),
    rename: (from: string, to: string) => call("rename", { from, to }),
  }),
});
