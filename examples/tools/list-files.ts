// Example tool: lists the names in one directory under the directory it was granted.
import { defineTool, z } from "warden/sdk";

export default defineTool({
  name: "list-files",
  description: "List the files and directories in a directory under the granted one.",
  input: z.object({
    path: z.string().default("").describe("Directory relative to the granted one; empty for its root"),
  }),
  output: z.object({ names: z.array(z.string()) }),
  capabilities: { files: { type: "fs", rights: ["list"] } },
  async run({ path }, caps) {
    return { names: (await caps.files.list(path)).map((entry) => entry.name) };
  },
});
