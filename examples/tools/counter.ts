// Example tool: counts how often it was called, in its private key-value store.
import { defineTool, z } from "warden/sdk";

export default defineTool({
  name: "counter",
  description: "Increment a named counter in the tool's private store and return its new value.",
  input: z.object({ name: z.string().default("visits") }),
  output: z.object({ name: z.string(), count: z.number() }),
  capabilities: { store: { type: "kv", rights: ["read", "write"] } },
  async run({ name }, caps) {
    const count = (Number(await caps.store.get(name)) || 0) + 1;
    await caps.store.set(name, count);
    return { name, count };
  },
});
