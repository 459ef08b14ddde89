// Example component tool, in JS: one file operation in the directory granted as `files`, chosen by its input.
// Every operation is a handle call the kernel checks, so what the grant allows is all it can do.
import { Dir } from "warden:tool/fs@0.1.0";

const definition = {
  name: "files",
  description: "Read, write, list, stat, make, remove or rename files in the granted directory.",
  inputSchema: {
    type: "object",
    properties: {
      op: { enum: ["read", "write", "list", "stat", "mkdir", "remove", "rename"] },
      path: { type: "string" },
      to: { type: "string", description: "The new path, for rename" },
      text: { type: "string", description: "The text to write, for write" },
      recursive: { type: "boolean" },
    },
    required: ["op", "path"],
  },
  outputSchema: { type: "object" },
  capabilities: { files: { type: "fs", rights: null } },
};

function perform(files, { op, path, to, text, recursive }) {
  switch (op) {
    case "read":
      return { text: files.readText(path) };
    case "write":
      files.writeText(path, text ?? "", false);
      return { written: true };
    case "list":
      return { entries: files.list(path) };
    case "stat": {
      const s = files.stat(path);
      return { type: s.type, size: Number(s.size) };
    }
    case "mkdir":
      files.mkdir(path, recursive === true);
      return { made: true };
    case "remove":
      files.remove(path, recursive === true);
      return { removed: true };
    case "rename":
      files.rename(path, to ?? "");
      return { renamed: true };
  }
  throw { code: "TOOL_ERROR", message: `unknown op ${op}` };
}

export const tool = {
  describe() {
    return JSON.stringify(definition);
  },
  run(inputJson) {
    return JSON.stringify(perform(Dir.granted("files"), JSON.parse(inputJson)));
  },
};
