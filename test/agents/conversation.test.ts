// The kernel-owned conversation: validated durable appends, the view with compactions, token counts, and the
// context budget's three overflow choices, none of which ever cuts the system message.
import { describe, expect, it } from "vitest";
import {
  Conversation,
  DROPPED_RESULT,
  type Overflow,
  SUMMARY_PREFIX,
} from "../../runtime/agents/conversation.ts";
import { MemorySessionStore } from "../../runtime/agents/store.ts";

const SYSTEM = { role: "system", content: "You answer questions about files." } as const;

async function started(
  options: {
    contextTokens?: number;
    overflow?: Overflow;
    summarise?: (m: unknown[]) => Promise<string>;
  } = {},
) {
  const store = new MemorySessionStore();
  const { id } = await store.create({ agent: "reader", task: "t", model: "m" });
  const conversation = await Conversation.open(store, id, options);
  await conversation.append(SYSTEM);
  await conversation.append({ role: "user", content: "What is in a.txt and b.txt?" });
  return { store, id, conversation };
}

/** One turn of a tool call and its (large) result. */
async function toolTurn(c: Conversation, n: number, size = 2000) {
  await c.append({
    role: "assistant",
    content: "",
    toolCalls: [{ id: `c${n}`, name: "read", arguments: { n } }],
  });
  await c.append({ role: "tool", toolCallId: `c${n}`, content: "x".repeat(size) });
}

describe("conversation", () => {
  it("validates what it journals: the message format, the system message first, tool results for pending calls", async () => {
    const { conversation: c, store, id } = await started();
    await expect(c.append({ role: "wizard", content: "x" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(c.append(SYSTEM)).rejects.toThrow(/only open/);
    await expect(c.append({ role: "tool", toolCallId: "nope", content: "x" })).rejects.toThrow(
      /no tool call "nope"/,
    );
    await c.append({
      role: "assistant",
      content: "",
      toolCalls: [{ id: "c1", name: "read", arguments: {} }],
    });
    expect(c.pending().map((p) => p.id)).toEqual(["c1"]);
    await expect(c.append({ role: "user", content: "hurry" })).rejects.toThrow(/waiting for their results/);
    await c.append({ role: "tool", toolCallId: "c1", content: "contents" });
    expect(c.pending()).toEqual([]);
    // Durable: a fresh conversation over the same store sees exactly what was acknowledged.
    const again = await Conversation.open(store, id);
    expect(again.messages()).toEqual(c.messages());
    expect(again.messages()).toHaveLength(4);
  });

  it("counts tokens by the provider's usage when known, else about four bytes a token", async () => {
    const { conversation: c } = await started();
    const estimated = c.tokens();
    expect(estimated).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(c.messages())) / 4));
    await c.appendCompletion({ role: "assistant", content: "done" }, { inputTokens: 1000, outputTokens: 7 });
    expect(c.tokens()).toBe(1007);
  });

  it("refuse: LIMIT_EXCEEDED naming the budget, and nothing is compacted", async () => {
    const { conversation: c } = await started({ contextTokens: 600, overflow: "refuse" });
    await toolTurn(c, 1, 4000);
    await expect(c.fit()).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    await expect(c.fit()).rejects.toThrow(/limits\.contextTokens 600.*overflow is refuse/);
    expect(c.compactions()).toEqual([]);
  });

  it("drop-tool-results: the oldest results become a marker, the newest stays, the journal keeps them all", async () => {
    const {
      conversation: c,
      store,
      id,
    } = await started({ contextTokens: 900, overflow: "drop-tool-results" });
    await toolTurn(c, 1);
    await toolTurn(c, 2);
    await toolTurn(c, 3);
    const compaction = await c.fit();
    expect(compaction).toMatchObject({ strategy: "drop-tool-results", replaced: [4, 6] });
    const tools = c.messages().filter((m) => m.role === "tool");
    expect(tools.map((m) => m.content.length)).toEqual([DROPPED_RESULT.length, DROPPED_RESULT.length, 2000]);
    expect(c.messages()[0]).toEqual(SYSTEM);
    expect(c.tokens()).toBeLessThanOrEqual(900);
    // Journaled: the compaction is a record of its own, and every message is still stored once, whole.
    expect(await store.compactions(id)).toHaveLength(1);
    expect(
      (await store.messages(id))
        .filter((e) => e.message.role === "tool")
        .every((e) => e.message.content.length === 2000),
    ).toBe(true);
    const reopened = await Conversation.open(store, id);
    expect(reopened.messages()).toEqual(c.messages());
  });

  it("drop-tool-results with nothing left to drop refuses rather than cutting the instructions", async () => {
    const store = new MemorySessionStore();
    const { id } = await store.create({ agent: "a", task: "t", model: "m" });
    const c = await Conversation.open(store, id, { contextTokens: 10, overflow: "drop-tool-results" });
    await c.append({ role: "system", content: "long instructions ".repeat(20) });
    await expect(c.fit()).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    expect(c.messages()[0]!.content).toContain("long instructions");
  });

  it("summarise: the middle becomes one summary from the model; the system message and task stay", async () => {
    const seen: unknown[][] = [];
    const {
      conversation: c,
      store,
      id,
    } = await started({
      contextTokens: 1200,
      overflow: "summarise",
      summarise: async (messages) => {
        seen.push(messages);
        return "read a.txt and b.txt; both hold x";
      },
    });
    await toolTurn(c, 1);
    await toolTurn(c, 2);
    await toolTurn(c, 3);
    const compaction = await c.fit();
    expect(compaction).toMatchObject({ strategy: "summarise", replaced: [3, 4, 5, 6] });
    expect(seen[0]).toHaveLength(4);
    const view = c.messages();
    expect(view.slice(0, 3).map((m) => m.role)).toEqual(["system", "user", "user"]);
    expect(view[2]!.content).toBe(`${SUMMARY_PREFIX}read a.txt and b.txt; both hold x`);
    expect(view.slice(3).map((m) => m.role)).toEqual(["assistant", "tool"]);
    expect((await Conversation.open(store, id)).messages()).toEqual(view);
  });
});
