// An agent session end to end on the scripted model: two tools it holds, a third it does not (the model reads the
// tool error and goes on), the journal, the audit, and the host API's shapes; on every backend.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Runtime } from "../../runtime/runtime.ts";
import { readerRuntime } from "../support/agents.ts";
import { BACKENDS, tempDir } from "../support/tools.ts";

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe.each(BACKENDS)("an agent session on %s", (backend) => {
  it("calls two tools, is refused a third it does not hold, reads the error and answers", async () => {
    runtime = await readerRuntime(tempDir(), { backend });
    const { session, answer } = await runtime.agents.run("reader", { task: "What does note a say?" });
    expect(answer).toBe("note a says hello (5 letters)");
    const shown = await runtime.agents.show(session);
    expect(shown).toMatchObject({ session, agent: "reader", status: "done", children: [] });
    expect(shown.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "tool",
      "assistant",
    ]);
    expect(shown.messages[0]!.content).toBe("Answer questions about notes.");
    expect(shown.messages[2]!.tool_calls).toEqual([
      { id: "call_1_1", name: "read-note", arguments: { name: "a" } },
    ]);
    expect(shown.messages[3]).toEqual({ role: "tool", content: "note a: hello", tool_call_id: "call_1_1" });
    expect(shown.messages[5]!.content).toBe('{"letters":5}');
    expect(shown.messages[6]!.content).toMatch(
      /^CAPABILITY_DENIED: this agent holds no tool "delete-all"; it holds: read-note, count$/,
    );
    expect(await runtime.agents.list()).toEqual([{ session, agent: "reader", status: "done", parent: null }]);
    const audit = runtime.auditRecords;
    // The model was offered exactly the two tools the agent holds.
    const models = audit.filter((r) => r.event === "model");
    expect(models).toHaveLength(3);
    for (const r of models) expect(r.summary).toContain(", 2 tools,");
    // delete-all never ran; the two held tools ran through their own sandboxes, each recorded.
    const runs = audit.filter((r) => r.event === "call" && r.op === "run").map((r) => r.tool);
    expect(runs).toContain("read-note");
    expect(runs).toContain("count");
    expect(runs).not.toContain("delete-all");
    // Metadata only: no message content reaches the audit.
    expect(JSON.stringify(audit)).not.toContain("hello (5 letters)");
  });

  it("a custom program holds the same handles: a tool's pinned definition, and a failing call as TOOL_ERROR", async () => {
    const dir = tempDir();
    runtime = await readerRuntime(dir, { backend });
    const file = join(dir, "custom.js");
    writeFileSync(
      file,
      `import { defineAgent } from "warden/sdk";
export default defineAgent({ name: "custom", async run(task, caps) {
  const out = [Object.keys(caps.tools).sort().join(","), caps.conversation.kind, caps.tools.count.rights.join(",")];
  const d = await caps.tools["read-note"].describe();
  out.push(d.name, String(d.idempotent), JSON.stringify(d.inputSchema.required));
  try { await caps.tools.count.call({ text: 42 }); out.push("called"); } catch (e) { out.push(e.code, e.message.split(":")[0]); }
  out.push(await caps.tools["read-note"].call({ name: "b" }));
  return out.join(" | ");
} });`,
    );
    runtime.agents.define({
      name: "custom",
      instructions: "Custom.",
      model: `scripted:${join(dir, "reader.script.yaml")}`,
      tools: ["read-note", "count"],
      source: file,
      backend,
    });
    const { answer } = await runtime.agents.run("custom", { task: "go" });
    expect(answer).toBe(
      'count,read-note | conversation | call | read-note | true | ["name"] | TOOL_ERROR | INVALID_INPUT | note b: hello',
    );
  });
});
