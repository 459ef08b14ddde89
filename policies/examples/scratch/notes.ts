// Example tool for the scratch policy: keeps notes as files in the one directory it is granted.
import { defineTool, z } from "warden/sdk";

export default defineTool({
  name: "notes",
  description: "Save, read, list and delete text notes in a scratch directory.",
  input: z.discriminatedUnion("action", [
    z.object({ action: z.literal("save"), name: z.string(), text: z.string() }),
    z.object({ action: z.literal("read"), name: z.string() }),
    z.object({ action: z.literal("delete"), name: z.string() }),
    z.object({ action: z.literal("list") }),
  ]),
  output: z.object({ text: z.string().optional(), names: z.array(z.string()).optional() }),
  capabilities: { space: { type: "fs", rights: ["read", "write", "create", "delete", "list"] } },
  async run(input, caps) {
    if (input.action === "save") {
      await caps.space.writeText(input.name, input.text);
      return {};
    }
    if (input.action === "read") return { text: await caps.space.readText(input.name) };
    if (input.action === "delete") {
      await caps.space.remove(input.name);
      return {};
    }
    const entries = await caps.space.list(".");
    return { names: entries.map((e) => e.name).filter((n) => n !== ".gitkeep") };
  },
});
