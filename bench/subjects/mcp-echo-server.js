// Baseline MCP tool server over stdio, built with the official SDK: one "echo" tool.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "echo", version: "1.0.0" });
server.registerTool(
  "echo",
  {
    description: "Return the input unchanged.",
    inputSchema: { data: z.string() },
    outputSchema: { data: z.string() },
  },
  async ({ data }) => ({ content: [{ type: "text", text: data }], structuredContent: { data } }),
);
await server.connect(new StdioServerTransport());
