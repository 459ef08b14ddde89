// Bench tool: makes `n` capability calls of one kind, so the cost per handle call can be taken from a run.
import { defineTool, z } from "warden/sdk";

export default defineTool({
  name: "caps",
  description: "Read a small file or get a kv key n times.",
  input: z.object({ op: z.enum(["fs", "kv"]), n: z.number().int().min(0) }),
  output: z.object({ n: z.number() }),
  capabilities: { files: { type: "fs", rights: ["read"] }, store: { type: "kv", rights: ["read", "write"] } },
  async run({ op, n }, caps) {
    if (op === "kv") await caps.store.set("k", "value");
    for (let i = 0; i < n; i++) {
      if (op === "fs") await caps.files.readText("small.txt");
      else await caps.store.get("k");
    }
    return { n };
  },
});
