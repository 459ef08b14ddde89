// The provider-neutral conversation: messages, tool calls, tool results, stop reasons and usage, as zod schemas.
// Every provider's wire format converts to and from this one, so a conversation can move between providers.
import { z } from "zod";

/** Bounds on what one request may hold: a guest builds these, and the kernel must not hold unbounded text. */
export const MAX_MESSAGES = 1000;
export const MAX_TEXT_CHARS = 1 << 20;
export const MAX_TOOLS = 128;

/** The names both OpenAI and Anthropic accept for a tool. */
export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Tool call ids both providers accept back (Anthropic's tool_use_id pattern). */
export const TOOL_CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;

const text = z.string().max(MAX_TEXT_CHARS);
const jsonObject = z.record(z.string(), z.json());

export const toolCallSchema = z.strictObject({
  id: z.string().regex(TOOL_CALL_ID, "tool call ids are letters, digits, '_' and '-'"),
  name: z.string().regex(TOOL_NAME, "tool names are 1-64 letters, digits, '_' and '-'"),
  /** Always a JSON object: both providers send tool arguments as one. */
  arguments: jsonObject,
});
export type ToolCall = z.infer<typeof toolCallSchema>;

export const systemMessageSchema = z.strictObject({ role: z.literal("system"), content: text });
export const userMessageSchema = z.strictObject({ role: z.literal("user"), content: text });
export const assistantMessageSchema = z.strictObject({
  role: z.literal("assistant"),
  /** "" when the turn is only tool calls. */
  content: text,
  toolCalls: z.array(toolCallSchema).max(MAX_TOOLS).optional(),
});
export const toolMessageSchema = z.strictObject({
  role: z.literal("tool"),
  /** The id of the assistant's tool call this answers. */
  toolCallId: z.string().regex(TOOL_CALL_ID),
  content: text,
  /** The result is an error report (Anthropic's is_error; OpenAI has no such flag and drops it). */
  isError: z.boolean().optional(),
});

export const messageSchema = z.discriminatedUnion("role", [
  systemMessageSchema,
  userMessageSchema,
  assistantMessageSchema,
  toolMessageSchema,
]);
export type SystemMessage = z.infer<typeof systemMessageSchema>;
export type UserMessage = z.infer<typeof userMessageSchema>;
export type AssistantMessage = z.infer<typeof assistantMessageSchema>;
export type ToolMessage = z.infer<typeof toolMessageSchema>;
export type Message = z.infer<typeof messageSchema>;

/** A tool the model may call: its name, words, and a JSON Schema object for its arguments. */
export const toolSpecSchema = z.strictObject({
  name: z.string().regex(TOOL_NAME, "tool names are 1-64 letters, digits, '_' and '-'"),
  description: z.string().max(10_000).optional(),
  parameters: jsonObject.default({ type: "object", properties: {} }),
});
export type ToolSpec = z.infer<typeof toolSpecSchema>;

export const STOP_REASONS = ["end", "tool_calls", "max_tokens", "stop_sequence", "refused", "other"] as const;
export const stopReasonSchema = z.enum(STOP_REASONS);
export type StopReason = z.infer<typeof stopReasonSchema>;

export const usageSchema = z.strictObject({
  inputTokens: z.int().min(0),
  outputTokens: z.int().min(0),
});
export type Usage = z.infer<typeof usageSchema>;

export const PROVIDERS = ["openai", "anthropic", "scripted"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** One model turn, whichever provider produced it. `provider` says so: "scripted" is never a real model. */
export const completionSchema = z.strictObject({
  provider: z.enum(PROVIDERS),
  model: z.string(),
  message: assistantMessageSchema,
  stopReason: stopReasonSchema,
  usage: usageSchema,
});
export type Completion = z.infer<typeof completionSchema>;

/** The parameters a caller may set on a call, besides the conversation (a grant may allow fewer). */
export const CALL_PARAMS = ["model", "maxTokens", "temperature", "topP", "stop"] as const;
export type CallParam = (typeof CALL_PARAMS)[number];

/** What a caller asks of a model: the conversation so far, the tools it may call, and parameters. */
export const completionRequestSchema = z.strictObject({
  messages: z.array(messageSchema).min(1).max(MAX_MESSAGES),
  tools: z.array(toolSpecSchema).max(MAX_TOOLS).optional(),
  model: z.string().min(1).max(256).optional(),
  maxTokens: z.int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  stop: z.array(z.string().min(1).max(256)).max(4).optional(),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

/** What an adapter sends: a request with its model and max tokens decided. */
export type ProviderRequest = Omit<CompletionRequest, "model" | "maxTokens"> & {
  model: string;
  maxTokens: number;
};

/** What a stream yields: text as it arrives, each tool call once complete, then the whole completion. */
export type StreamEvent =
  | { type: "text"; text: string }
  | { type: "tool_call"; call: ToolCall }
  | { type: "done"; completion: Completion };

/** The newest message's text: what a scripted turn's `expect` is matched against. */
export function newestText(messages: readonly Message[]): string {
  return messages.at(-1)?.content ?? "";
}
