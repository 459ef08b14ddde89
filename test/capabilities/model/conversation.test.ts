// The neutral conversation in each provider's wire format and back: what both providers support survives,
// so a conversation started on one continues on the other.
import { describe, expect, test } from "vitest";
import {
  fromAnthropicMessages,
  toAnthropicMessages,
} from "../../../runtime/capabilities/model/anthropic-wire.ts";
import { type Message, messageSchema } from "../../../runtime/capabilities/model/conversation.ts";
import { fromOpenAIMessages, toOpenAIMessages } from "../../../runtime/capabilities/model/openai-wire.ts";

const viaOpenAI = (messages: Message[]) =>
  fromOpenAIMessages(JSON.parse(JSON.stringify(toOpenAIMessages(messages))));
const viaAnthropic = (messages: Message[]) => {
  const wire = JSON.parse(JSON.stringify(toAnthropicMessages(messages))) as {
    system?: string;
    messages: unknown[];
  };
  return fromAnthropicMessages(wire.system, wire.messages);
};

const CONVERSATION: Message[] = [
  { role: "system", content: "You are a careful reader." },
  { role: "user", content: "Read a.txt and b.txt" },
  {
    role: "assistant",
    content: "Reading both.",
    toolCalls: [
      { id: "call_1", name: "read-file", arguments: { path: "a.txt" } },
      { id: "toolu_2", name: "read-file", arguments: { path: "b.txt", opts: { lines: [1, 2], raw: null } } },
    ],
  },
  { role: "tool", toolCallId: "call_1", content: "A says hi" },
  { role: "tool", toolCallId: "toolu_2", content: "B says bye" },
  { role: "user", content: "And now?" },
  { role: "assistant", content: "", toolCalls: [{ id: "call_3", name: "done", arguments: {} }] },
  { role: "tool", toolCallId: "call_3", content: "ok" },
  { role: "assistant", content: "A says hi, B says bye." },
];

describe("round trips", () => {
  test("neutral → OpenAI → neutral keeps everything", () => {
    expect(viaOpenAI(CONVERSATION)).toEqual(CONVERSATION);
  });

  test("neutral → Anthropic → neutral keeps everything, error flags too", () => {
    const withError: Message[] = [
      ...CONVERSATION.slice(0, 3),
      { ...CONVERSATION[3]!, isError: true } as Message,
      ...CONVERSATION.slice(4),
    ];
    expect(viaAnthropic(withError)).toEqual(withError);
  });

  test("a conversation continues across providers: OpenAI → Anthropic → OpenAI", () => {
    expect(viaOpenAI(viaAnthropic(viaOpenAI(CONVERSATION)))).toEqual(CONVERSATION);
  });

  test("a system message mid-conversation stays in place on both", () => {
    const late: Message[] = [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "system", content: "Now answer in French." },
      { role: "user", content: "bye" },
    ];
    expect(viaOpenAI(late)).toEqual(late);
    expect(viaAnthropic(late)).toEqual(late);
  });

  test("Anthropic's wire shape: tool results are user turns merged with the next user text; system on top", () => {
    const wire = toAnthropicMessages(CONVERSATION);
    expect(wire.system).toBe("You are a careful reader.");
    expect(wire.messages.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
    expect(wire.messages[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "call_1", content: "A says hi" },
        { type: "tool_result", tool_use_id: "toolu_2", content: "B says bye" },
        { type: "text", text: "And now?" },
      ],
    });
  });

  test("OpenAI's wire shape: arguments as JSON text, null content beside tool calls", () => {
    const wire = toOpenAIMessages(CONVERSATION);
    expect(wire[6]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_3", type: "function", function: { name: "done", arguments: "{}" } }],
    });
  });

  test("what a guest may send is parsed by schema: bad ids, names and roles are refused", () => {
    expect(messageSchema.safeParse({ role: "tool", toolCallId: "a b", content: "" }).success).toBe(false);
    expect(
      messageSchema.safeParse({
        role: "assistant",
        content: "",
        toolCalls: [{ id: "x", name: "no spaces", arguments: {} }],
      }).success,
    ).toBe(false);
    expect(messageSchema.safeParse({ role: "developer", content: "" }).success).toBe(false);
    expect(messageSchema.safeParse({ role: "user", content: "x", extra: 1 }).success).toBe(false);
  });
});
