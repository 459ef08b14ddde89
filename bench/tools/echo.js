// Bench tool: returns its input, so a call measures the boundary and nothing else.
import { defineTool, z } from "warden/sdk";

export default defineTool({
  name: "echo",
  description: "Return the input unchanged.",
  input: z.object({ data: z.string() }),
  output: z.object({ data: z.string() }),
  async run(input) {
    return input;
  },
});
