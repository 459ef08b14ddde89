// Example component tool, written in JS and built with componentize-js: the text of one file from the
// directory granted as `files`. Same input, output and capability as examples/tools/read-file.ts.
import { Dir } from "warden:tool/fs@0.1.0";

const definition = {
  name: "read-file",
  description: "Read a UTF-8 text file from the granted directory.",
  inputSchema: {
    type: "object",
    properties: { path: { type: "string", description: "Path relative to the granted directory" } },
    required: ["path"],
  },
  outputSchema: {
    type: "object",
    properties: { text: { type: "string" } },
    required: ["text"],
    additionalProperties: false,
  },
  capabilities: { files: { type: "fs", rights: ["read"] } },
};

export const tool = {
  describe() {
    return JSON.stringify(definition);
  },
  // An err result (a failed handle call: CAPABILITY_DENIED, NOT_FOUND, ...) is thrown by the bindings and
  // returned as this run's error unchanged, so the caller sees the kernel's own code.
  run(inputJson) {
    const { path } = JSON.parse(inputJson);
    const files = Dir.granted("files");
    return JSON.stringify({ text: files.readText(path) });
  },
};
