// Agents offered over MCP: a task in, the answer out, progress notifications while it runs, failures as results.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, test } from "vitest";
import { WardenError } from "../../runtime/errors.ts";
import { agentCatalog, type ServedAgent } from "../../runtime/mcp/agents.ts";
import { createMcpServer } from "../../runtime/mcp/serve.ts";
import { CLI, REPO, runCli } from "../support/cli.ts";
import { tempDir } from "../support/tools.ts";

/** An agent as the MCP layer sees one: it reports two steps, then answers with what it was asked. */
const echo: ServedAgent = {
  name: "reader",
  description: "Answers questions about files.",
  async run(task, { onProgress }) {
    onProgress?.({ session: "s_test", kind: "turn", detail: "turn 1: 1 tool calls" });
    onProgress?.({ session: "s_test", kind: "tool", detail: "read-file answered" });
    return { session: "s_test", answer: `answered: ${task}` };
  },
};

const failing: ServedAgent = {
  name: "broke",
  async run() {
    throw new WardenError("LIMIT_EXCEEDED", "the agent's turns budget (2) is spent");
  },
};

async function client(agents: ServedAgent[]): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(agentCatalog(agents), { session: "test" }).connect(serverSide);
  const c = new Client({ name: "test-client", version: "1.0.0" });
  await c.connect(clientSide);
  return c;
}

describe("a policy's agents as MCP tools", () => {
  test("listed with a task in and {session, answer} out", async () => {
    const c = await client([echo]);
    const { tools } = await c.listTools();
    expect(tools).toEqual([
      expect.objectContaining({
        name: "reader",
        description: "Answers questions about files.",
        inputSchema: expect.objectContaining({ required: ["task"] }),
      }),
    ]);
    await c.close();
  });

  test("a call returns the answer, with progress notifications when the client asks for them", async () => {
    const c = await client([echo]);
    const progress: Array<{ progress: number; message?: string }> = [];
    const result = await c.callTool(
      { name: "reader", arguments: { task: "what is in hello.txt?" } },
      CallToolResultSchema,
      {
        onprogress: (p) => progress.push({ progress: p.progress, message: p.message }),
      },
    );
    expect(result.structuredContent).toEqual({
      session: "s_test",
      answer: "answered: what is in hello.txt?",
    });
    expect(result.content).toEqual([{ type: "text", text: "answered: what is in hello.txt?" }]);
    expect(progress).toEqual([
      { progress: 1, message: "agent reader started" },
      { progress: 2, message: "session s_test: turn 1: 1 tool calls" },
      { progress: 3, message: "session s_test: tool read-file answered" },
    ]);
    await c.close();
  });

  test("a bad task and a failed session are results the calling model can read", async () => {
    const c = await client([echo, failing]);
    const bad = await c.callTool({ name: "reader", arguments: { task: "", extra: 1 } });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toContain("INVALID_INPUT");
    const failed = await c.callTool({ name: "broke", arguments: { task: "go" } });
    expect(failed).toMatchObject({
      isError: true,
      content: [{ type: "text", text: "LIMIT_EXCEEDED: the agent's turns budget (2) is spent" }],
    });
    await c.close();
  });
});

test("warden mcp serve offers the example policy's agent: a client hands it a task, gets progress, then the answer", async () => {
  const state = tempDir();
  const env = { ...process.env } as Record<string, string>;
  delete env.NODE_OPTIONS;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      "--disable-warning=ExperimentalWarning",
      CLI,
      "mcp",
      "serve",
      "--policy",
      "examples/agents/policy.yaml",
      "--state",
      state,
    ],
    cwd: REPO,
    env,
    stderr: "pipe",
  });
  const c = new Client({ name: "agent-client", version: "1.0.0" });
  await c.connect(transport);
  try {
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["counter", "list-files", "read-file", "reader"]);
    const progress: string[] = [];
    const result = await c.callTool(
      { name: "reader", arguments: { task: "What does hello.txt say?" } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p.message ?? ""), timeout: 60_000 },
    );
    const { session, answer } = result.structuredContent as { session: string; answer: string };
    expect(answer).toBe(
      'hello.txt says "Hello from Warden." (I could not use counter; this agent does not hold it.)',
    );
    expect(progress[0]).toBe("agent reader started");
    expect(progress).toContain(`session ${session}: tool list-files answered`);
    expect(progress).toContain(`session ${session}: tool read-file answered`);
    expect(progress.filter((p) => p.includes(": turn ")).length).toBe(4);
  } finally {
    await c.close();
  }
  // The session is journaled in the state directory like one `agent run` started.
  const ps = await runCli(["agent", "ps", "--state", state, "--json"]);
  expect(JSON.parse(ps.stdout)).toEqual([expect.objectContaining({ agent: "reader", status: "done" })]);
}, 90_000);
