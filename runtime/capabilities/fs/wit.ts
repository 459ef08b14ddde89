// The fs handle in a WebAssembly component: the `dir` resource of warden:tool/fs (fs.wit). Guest code (no Node types).
import { defineWitAdapter, mapped, unit } from "../wit-kind.ts";

export const fsWit = defineWitAdapter({
  kind: "fs",
  interface: "fs",
  resource: "Dir",
  attenuation: (rights, path) => ({ rights, path }),
  define: (Base) =>
    class Dir extends Base {
      readText(path: string) {
        return this.op("readText", { path });
      }
      readBytes(path: string) {
        return this.op("readBytes", { path });
      }
      writeText(path: string, text: string, append: boolean) {
        return unit(this.op("writeText", { path, text, append }));
      }
      writeBytes(path: string, bytes: Uint8Array, append: boolean) {
        return unit(this.op("writeBytes", { path, bytes, append }));
      }
      list(path: string) {
        return this.op("list", { path });
      }
      stat(path: string) {
        return mapped(this.op("stat", { path }), (s) => {
          const { type, size, mtimeMs } = s as { type: string; size: number; mtimeMs: number };
          return { type, size: BigInt(size), mtimeMs };
        });
      }
      mkdir(path: string, recursive: boolean) {
        return unit(this.op("mkdir", { path, recursive }));
      }
      remove(path: string, recursive: boolean) {
        return unit(this.op("remove", { path, recursive }));
      }
      rename(from: string, to: string) {
        return unit(this.op("rename", { from, to }));
      }
    },
});
