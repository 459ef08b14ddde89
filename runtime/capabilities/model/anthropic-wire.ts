// Conversion between the neutral conversation and Anthropic's Messages wire format, both ways, including the
// stream's events. Responses are parsed by schema: a provider's answer is untrusted input.
import type {
  ContentBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
  Tool,
} from "@anthropic-ai/sdk/resources/messages";
import { z } from "zod";
import { checkArguments, parseArguments } from "./arguments.ts";
import type {
  AssistantMessage,
  Completion,
  Message,
  ProviderRequest,
  StopReason,
  StreamEvent,
  ToolCall,
  Usage,
} from "./conversation.ts";
import { modelError } from "./failures.ts";

const STOP = new Map<string, StopReason>(
  Object.entries({
    end_turn: "end",
    tool_use: "tool_calls",
    max_tokens: "max_tokens",
    stop_sequence: "stop_sequence",
    refusal: "refused",
  }),
);

export function anthropicStopReason(reason: string | null | undefined): StopReason {
  return (reason ? STOP.get(reason) : undefined) ?? "other";
}

/**
 * The top-level system prompt (the leading system messages: every API version reads it there) and the
 * messages. A later system message stays in place as a system-role message, which the API accepts since
 * 2026-10-21. Tool results are user messages of tool_result blocks, merged with the user turn that follows,
 * because Anthropic wants user and assistant turns to alternate.
 */
export function toAnthropicMessages(messages: readonly Message[]): {
  system: string | undefined;
  messages: MessageParam[];
} {
  let start = 0;
  const system: string[] = [];
  while (messages[start]?.role === "system") system.push(messages[start++]!.content);
  const out: MessageParam[] = [];
  const pushUser = (block: ContentBlockParam) => {
    const last = out.at(-1);
    if (last?.role === "user" && Array.isArray(last.content)) last.content.push(block);
    else out.push({ role: "user", content: [block] });
  };
  for (const m of messages.slice(start)) {
    switch (m.role) {
      case "system":
        out.push({ role: "system", content: m.content });
        break;
      case "user": {
        const last = out.at(-1);
        if (last?.role === "user" && Array.isArray(last.content)) pushUser({ type: "text", text: m.content });
        else out.push({ role: "user", content: m.content });
        break;
      }
      case "tool":
        pushUser({
          type: "tool_result",
          tool_use_id: m.toolCallId,
          content: m.content,
          ...(m.isError ? { is_error: true } : {}),
        });
        break;
      case "assistant": {
        const blocks: ContentBlockParam[] = [];
        if (m.content !== "" || !m.toolCalls?.length) blocks.push({ type: "text", text: m.content });
        for (const c of m.toolCalls ?? [])
          blocks.push({ type: "tool_use", id: c.id, name: c.name, input: c.arguments });
        out.push({ role: "assistant", content: blocks });
        break;
      }
    }
  }
  return { system: system.length ? system.join("\n\n") : undefined, messages: out };
}

const wireText = z.union([
  z.string(),
  z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
]);
function joinText(content: z.infer<typeof wireText> | undefined): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  return content.map((b) => (b.type === "text" ? (b.text ?? "") : "")).join("");
}

const wireBlock = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  tool_use_id: z.string().optional(),
  content: wireText.optional(),
  is_error: z.boolean().optional(),
});
const wireMessage = z.looseObject({
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(wireBlock)]),
});

function assistantFrom(blocks: readonly z.infer<typeof wireBlock>[]): AssistantMessage {
  let content = "";
  const calls: ToolCall[] = [];
  for (const b of blocks) {
    if (b.type === "text") content += b.text ?? "";
    else if (b.type === "tool_use") {
      if (b.id === undefined || b.name === undefined)
        throw modelError("anthropic sent a tool_use block without id or name");
      calls.push({ id: b.id, name: b.name, arguments: checkArguments("anthropic", b.input ?? {}) });
    }
    // thinking and server-tool blocks have no neutral form; they are dropped, not misread.
  }
  return calls.length ? { role: "assistant", content, toolCalls: calls } : { role: "assistant", content };
}

/** A conversation held in Anthropic's format, as neutral messages (the other half of a round trip). */
export function fromAnthropicMessages(system: string | undefined, raw: readonly unknown[]): Message[] {
  const out: Message[] = system === undefined ? [] : [{ role: "system", content: system }];
  for (const item of raw) {
    const m = wireMessage.parse(item);
    if (typeof m.content === "string") {
      out.push({ role: m.role, content: m.content });
      continue;
    }
    if (m.role === "assistant") {
      out.push(assistantFrom(m.content));
      continue;
    }
    if (m.role === "system") {
      out.push({ role: "system", content: joinText(m.content) });
      continue;
    }
    for (const b of m.content) {
      if (b.type === "tool_result") {
        out.push({
          role: "tool",
          toolCallId: b.tool_use_id ?? "",
          content: joinText(b.content),
          ...(b.is_error ? { isError: true } : {}),
        });
      } else if (b.type === "text") out.push({ role: "user", content: b.text ?? "" });
    }
  }
  return out;
}

export function toAnthropicTools(tools: ProviderRequest["tools"]): Tool[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((t) => ({
    name: t.name,
    ...(t.description === undefined ? {} : { description: t.description }),
    input_schema: { type: "object", ...t.parameters },
  }));
}

export function toAnthropicRequest(request: ProviderRequest): MessageCreateParamsNonStreaming {
  const { system, messages } = toAnthropicMessages(request.messages);
  const tools = toAnthropicTools(request.tools);
  return {
    model: request.model,
    max_tokens: request.maxTokens,
    messages,
    ...(system === undefined ? {} : { system }),
    ...(tools ? { tools } : {}),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.topP === undefined ? {} : { top_p: request.topP }),
    ...(request.stop === undefined ? {} : { stop_sequences: request.stop }),
  };
}

const wireUsage = z.looseObject({ input_tokens: z.int().min(0).nullish(), output_tokens: z.int().min(0) });
const wireResponse = z.looseObject({
  model: z.string().optional(),
  content: z.array(wireBlock),
  stop_reason: z.string().nullish(),
  usage: wireUsage,
});

function usageFrom(raw: z.infer<typeof wireUsage>): Usage {
  return { inputTokens: raw.input_tokens ?? 0, outputTokens: raw.output_tokens };
}

/** A non-streamed response body as a neutral completion; MODEL_ERROR if it is not one. */
export function fromAnthropicResponse(raw: unknown, model: string): Completion {
  const parsed = wireResponse.safeParse(raw);
  if (!parsed.success)
    throw modelError(`anthropic sent a malformed response: ${z.prettifyError(parsed.error)}`);
  return {
    provider: "anthropic",
    model: parsed.data.model ?? model,
    message: assistantFrom(parsed.data.content),
    stopReason: anthropicStopReason(parsed.data.stop_reason),
    usage: usageFrom(parsed.data.usage),
  };
}

const wireEvent = z.looseObject({
  type: z.string(),
  index: z.int().min(0).max(1023).optional(),
  message: z.looseObject({ model: z.string().optional(), usage: wireUsage.optional() }).optional(),
  content_block: wireBlock.optional(),
  delta: z
    .looseObject({
      type: z.string().optional(),
      text: z.string().optional(),
      partial_json: z.string().optional(),
      stop_reason: z.string().nullish(),
    })
    .optional(),
  usage: z
    .looseObject({ input_tokens: z.int().min(0).nullish(), output_tokens: z.int().min(0).nullish() })
    .optional(),
});

/** Gathers a stream's events into neutral events and, at message_stop, the completion; cut short is MODEL_ERROR. */
export class AnthropicStream {
  private readonly blocks: { type: string; text: string; id?: string; name?: string; json: string }[] = [];
  private stop: string | undefined;
  private usage: Usage = { inputTokens: 0, outputTokens: 0 };
  private model: string;
  private stopped = false;

  constructor(model: string) {
    this.model = model;
  }

  push(raw: unknown): StreamEvent[] {
    const parsed = wireEvent.safeParse(raw);
    if (!parsed.success)
      throw modelError(`anthropic sent a malformed stream event: ${z.prettifyError(parsed.error)}`);
    const e = parsed.data;
    switch (e.type) {
      case "message_start":
        if (e.message?.model) this.model = e.message.model;
        if (e.message?.usage) this.usage = usageFrom(e.message.usage);
        return [];
      case "content_block_start": {
        const b = e.content_block;
        if (e.index === undefined || !b) throw modelError("anthropic sent a content block without index");
        this.blocks[e.index] = { type: b.type, text: b.text ?? "", id: b.id, name: b.name, json: "" };
        return b.text ? [{ type: "text", text: b.text }] : [];
      }
      case "content_block_delta": {
        const block = e.index === undefined ? undefined : this.blocks[e.index];
        if (!block) throw modelError("anthropic sent a delta for a block it never started");
        if (e.delta?.type === "text_delta" && e.delta.text) {
          block.text += e.delta.text;
          return [{ type: "text", text: e.delta.text }];
        }
        if (e.delta?.type === "input_json_delta") block.json += e.delta.partial_json ?? "";
        return [];
      }
      case "content_block_stop": {
        const block = e.index === undefined ? undefined : this.blocks[e.index];
        if (block?.type !== "tool_use") return [];
        return [{ type: "tool_call", call: this.callOf(block) }];
      }
      case "message_delta":
        if (e.delta?.stop_reason) this.stop = e.delta.stop_reason;
        if (e.usage?.output_tokens != null)
          this.usage = { ...this.usage, outputTokens: e.usage.output_tokens };
        if (e.usage?.input_tokens != null) this.usage = { ...this.usage, inputTokens: e.usage.input_tokens };
        return [];
      case "message_stop":
        this.stopped = true;
        return [];
      default:
        return []; // ping, and event types added after this was written
    }
  }

  private callOf(block: { id?: string; name?: string; json: string }): ToolCall {
    if (!block.id || !block.name) throw modelError("anthropic sent a tool_use block without id or name");
    return { id: block.id, name: block.name, arguments: parseArguments("anthropic", block.json) };
  }

  done(): Completion {
    if (!this.stopped) throw modelError("anthropic's stream ended before the response was complete");
    let content = "";
    const calls: ToolCall[] = [];
    for (const b of this.blocks) {
      if (b?.type === "text") content += b.text;
      else if (b?.type === "tool_use") calls.push(this.callOf(b));
    }
    return {
      provider: "anthropic",
      model: this.model,
      message: calls.length
        ? { role: "assistant", content, toolCalls: calls }
        : { role: "assistant", content },
      stopReason: anthropicStopReason(this.stop),
      usage: this.usage,
    };
  }
}
