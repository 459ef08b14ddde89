// Conversion between the neutral conversation and OpenAI's Chat Completions wire format, both ways,
// including the stream's deltas. Responses are parsed by schema: a provider's answer is untrusted input.
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import { z } from "zod";
import { parseArguments } from "./arguments.ts";
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
    stop: "end",
    tool_calls: "tool_calls",
    function_call: "tool_calls",
    length: "max_tokens",
    content_filter: "refused",
  }),
);

export function openaiStopReason(reason: string | null | undefined): StopReason {
  return (reason ? STOP.get(reason) : undefined) ?? "other";
}

export function toOpenAIMessages(messages: readonly Message[]): ChatCompletionMessageParam[] {
  return messages.map(toOpenAIMessage);
}

function toOpenAIMessage(m: Message): ChatCompletionMessageParam {
  switch (m.role) {
    case "system":
    case "user":
      return { role: m.role, content: m.content };
    case "assistant":
      if (!m.toolCalls?.length) return { role: "assistant", content: m.content };
      return {
        role: "assistant",
        content: m.content === "" ? null : m.content,
        tool_calls: m.toolCalls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: JSON.stringify(c.arguments) },
        })),
      };
    case "tool":
      return { role: "tool", tool_call_id: m.toolCallId, content: m.content };
  }
}

const textParts = z.union([
  z.string(),
  z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  z.null(),
]);
function joinText(content: z.infer<typeof textParts> | undefined): string {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  return content.map((p) => p.text ?? "").join("");
}

const wireToolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function").optional(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});
const wireMessage = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: textParts.optional(),
  tool_calls: z.array(wireToolCall).nullish(),
  tool_call_id: z.string().optional(),
  refusal: z.string().nullish(),
});

function toolCallFrom(raw: z.infer<typeof wireToolCall>): ToolCall {
  return { id: raw.id, name: raw.function.name, arguments: parseArguments("openai", raw.function.arguments) };
}

/** A conversation held in OpenAI's format, as neutral messages (the other half of a round trip). */
export function fromOpenAIMessages(raw: readonly unknown[]): Message[] {
  return raw.map(fromOpenAIMessage);
}

function fromOpenAIMessage(item: unknown): Message {
  const m = wireMessage.parse(item);
  const content = joinText(m.content);
  switch (m.role) {
    case "system":
    case "developer":
      return { role: "system", content };
    case "user":
      return { role: "user", content };
    case "tool":
      return { role: "tool", toolCallId: m.tool_call_id ?? "", content };
    case "assistant": {
      const calls = (m.tool_calls ?? []).map(toolCallFrom);
      return calls.length ? { role: "assistant", content, toolCalls: calls } : { role: "assistant", content };
    }
  }
}

export function toOpenAITools(tools: ProviderRequest["tools"]): ChatCompletionTool[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((t) => ({
    type: "function",
    function: {
      name: t.name,
      ...(t.description === undefined ? {} : { description: t.description }),
      parameters: t.parameters,
    },
  }));
}

/**
 * The request body. OpenAI itself wants max_completion_tokens (its reasoning models refuse max_tokens); the
 * OpenAI-compatible servers (llama.cpp, Ollama, vLLM) all know max_tokens.
 */
export function toOpenAIRequest(
  request: ProviderRequest,
  tokenField: "max_tokens" | "max_completion_tokens",
): ChatCompletionCreateParamsNonStreaming {
  const tools = toOpenAITools(request.tools);
  return {
    model: request.model,
    messages: toOpenAIMessages(request.messages),
    [tokenField]: request.maxTokens,
    ...(tools ? { tools } : {}),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.topP === undefined ? {} : { top_p: request.topP }),
    ...(request.stop === undefined ? {} : { stop: request.stop }),
  };
}

const wireUsage = z.looseObject({ prompt_tokens: z.int().min(0), completion_tokens: z.int().min(0) });
const wireCompletion = z.looseObject({
  model: z.string().optional(),
  choices: z
    .array(z.looseObject({ message: wireMessage, finish_reason: z.string().nullish() }))
    .min(1, "the response has no choices"),
  usage: wireUsage.nullish(),
});

function usageFrom(raw: z.infer<typeof wireUsage> | null | undefined): Usage {
  return { inputTokens: raw?.prompt_tokens ?? 0, outputTokens: raw?.completion_tokens ?? 0 };
}

function assistant(content: string, calls: ToolCall[]): AssistantMessage {
  return calls.length ? { role: "assistant", content, toolCalls: calls } : { role: "assistant", content };
}

/** A non-streamed response body as a neutral completion; MODEL_ERROR if it is not one. */
export function fromOpenAICompletion(raw: unknown, model: string): Completion {
  const parsed = wireCompletion.safeParse(raw);
  if (!parsed.success) throw modelError(`openai sent a malformed response: ${z.prettifyError(parsed.error)}`);
  const choice = parsed.data.choices[0]!;
  const calls = (choice.message.tool_calls ?? []).map(toolCallFrom);
  const content = joinText(choice.message.content) || (choice.message.refusal ?? "");
  return {
    provider: "openai",
    model: parsed.data.model ?? model,
    message: assistant(content, calls),
    stopReason: openaiStopReason(choice.finish_reason),
    usage: usageFrom(parsed.data.usage),
  };
}

const wireChunk = z.looseObject({
  model: z.string().optional(),
  choices: z.array(
    z.looseObject({
      delta: z
        .looseObject({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z
            .array(
              z.looseObject({
                index: z.int().min(0).max(127),
                id: z.string().nullish(),
                function: z
                  .looseObject({ name: z.string().nullish(), arguments: z.string().nullish() })
                  .nullish(),
              }),
            )
            .nullish(),
        })
        .nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: wireUsage.nullish(),
});

/** Gathers a stream's chunks into events and, at its end, the completion; a stream cut short is MODEL_ERROR. */
export class OpenAIStream {
  private text = "";
  private readonly calls: { id: string; name: string; args: string }[] = [];
  private finish: string | undefined;
  private usage: Usage | undefined;
  private model: string;

  constructor(model: string) {
    this.model = model;
  }

  push(raw: unknown): StreamEvent[] {
    const parsed = wireChunk.safeParse(raw);
    if (!parsed.success)
      throw modelError(`openai sent a malformed stream chunk: ${z.prettifyError(parsed.error)}`);
    const chunk = parsed.data;
    if (chunk.model) this.model = chunk.model;
    if (chunk.usage) this.usage = usageFrom(chunk.usage);
    const events: StreamEvent[] = [];
    for (const choice of chunk.choices) {
      const delta = choice.delta;
      const piece = (delta?.content ?? "") + (delta?.refusal ?? "");
      if (piece) {
        this.text += piece;
        events.push({ type: "text", text: piece });
      }
      for (const part of delta?.tool_calls ?? []) {
        let call = this.calls[part.index];
        if (!call) {
          call = { id: "", name: "", args: "" };
          this.calls[part.index] = call;
        }
        if (part.id) call.id = part.id;
        if (part.function?.name) call.name += part.function.name;
        if (part.function?.arguments) call.args += part.function.arguments;
      }
      if (choice.finish_reason) this.finish = choice.finish_reason;
    }
    return events;
  }

  /** The tool calls, complete once the stream has finished. */
  toolCalls(): ToolCall[] {
    return this.calls
      .filter((c) => c !== undefined)
      .map((c) => ({ id: c.id, name: c.name, arguments: parseArguments("openai", c.args) }));
  }

  done(): Completion {
    if (this.finish === undefined) throw modelError("openai's stream ended before the response was complete");
    return {
      provider: "openai",
      model: this.model,
      message: assistant(this.text, this.toolCalls()),
      stopReason: openaiStopReason(this.finish),
      usage: this.usage ?? { inputTokens: 0, outputTokens: 0 },
    };
  }
}
