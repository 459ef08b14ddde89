// The context budget in a running session: when a turn would pass limits.contextTokens, the agent's overflow choice
// applies before the model is called; the journal keeps every message, the compaction is a record and an audit
// entry, and a replay of the session matches.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Runtime } from "../../runtime/runtime.ts";
import { readerRuntime } from "../support/agents.ts";
import { tempDir } from "../support/tools.ts";

// Turn 2 reports a large input, so before turn 3 the conversation is over its budget.
const SCRIPT = (summary: boolean) => `reader:
  - tool_calls: [{ name: read-note, arguments: { name: a } }]
    usage: { input_tokens: 10, output_tokens: 10 }
  - tool_calls: [{ name: count, arguments: { text: hello } }]
    usage: { input_tokens: 5000, output_tokens: 10 }
${summary ? '  - text: "read note a: hello"\n' : ""}  - text: "note a says hello (5 letters)"
`;

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe.each([
  ["summarise", true],
  ["drop-tool-results", false],
  ["refuse", false],
] as const)("context overflow: %s", (overflow, summary) => {
  it("applies before the turn that would pass the budget", async () => {
    const dir = tempDir();
    runtime = await readerRuntime(dir, { script: SCRIPT(summary) });
    runtime.agents.define({
      name: "reader",
      instructions: "Answer questions about notes.",
      model: `scripted:${join(dir, "reader.script.yaml")}`,
      tools: ["read-note", "count"],
      limits: { contextTokens: 1000 },
      context: { overflow },
    });
    const outcome = await runtime.agents
      .run("reader", { task: "What does note a say?" })
      .catch((e: unknown) => e);
    const session = (await runtime.agents.list())[0]!.session;
    const shown = await runtime.agents.show(session);
    if (overflow === "refuse") {
      expect(outcome).toMatchObject({
        code: "LIMIT_EXCEEDED",
        message: expect.stringContaining("limits.contextTokens 1000"),
      });
      expect(shown.status).toBe("failed");
      return;
    }
    expect(outcome).toEqual({ session, answer: "note a says hello (5 letters)" });
    // The journal keeps every message whole: compaction changes what the model is sent, not what is stored.
    expect(shown.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(shown.messages[3]!.content).toBe("note a: hello");
    const audited = runtime.auditRecords.filter((r) => r.event === "compaction");
    expect(audited).toHaveLength(1);
    expect(audited[0]!.op).toBe(overflow);
    const models = runtime.auditRecords.filter((r) => r.event === "model").map((r) => r.op);
    expect(models).toEqual(summary ? ["turn", "turn", "summary", "turn"] : ["turn", "turn", "turn"]);
    const replay = await runtime.agents.replay(session);
    expect(replay.matched).toBe(true);
  });
});
