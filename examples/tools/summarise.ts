// Example tool: summarises a text file with the model it was granted (the scripted model in tests and examples).
import { defineTool, z } from "warden/sdk";

export default defineTool({
  name: "summarise",
  description:
    "Summarise a UTF-8 text file from the granted directory in one sentence, with the granted model.",
  input: z.object({ path: z.string().describe("Path relative to the granted directory") }),
  output: z.object({ summary: z.string(), model: z.string(), tokens: z.number() }),
  capabilities: { files: { type: "fs", rights: ["read"] }, model: { type: "model" } },
  async run({ path }, caps) {
    const text = await caps.files.readText(path);
    const answer = await caps.model.complete({
      messages: [
        { role: "system", content: "Summarise the user's text in one sentence." },
        { role: "user", content: text },
      ],
      maxTokens: 200,
    });
    return {
      summary: answer.message.content,
      // Says "scripted:scripted" when the answer came from a script, not a real model.
      model: `${answer.provider}:${answer.model}`,
      tokens: answer.usage.inputTokens + answer.usage.outputTokens,
    };
  },
});
