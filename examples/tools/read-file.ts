// Example tool: returns the text of one file from the directory it was granted.
import { defineTool, z } from "warden/sdk";

export default defineTool({
  name: "read-file",
  description: "Read a UTF-8 text file from the granted directory.",
  input: z.object({ path: z.string().describe("Path relative to the granted directory") }),
  output: z.object({ text: z.string() }),
  capabilities: { files: { type: "fs", rights: ["read"] } },
  async run({ path }, caps) {
    return { text: await caps.files.readText(path) };
  },
});
