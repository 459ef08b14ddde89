// The model handle inside a JS sandbox: its method and the types tool authors see. Guest code (no Node types).
// The shapes mirror the host's schemas in conversation.ts, which parse whatever a guest sends.
import { defineGuestAdapter, type HandleBase } from "../guest-kind.ts";

/** A message in the provider-neutral conversation. */
export type ModelMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ModelToolCall[] }
  | { role: "tool"; toolCallId: string; content: string; isError?: boolean };

export interface ModelToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface ModelRequest {
  messages: ModelMessage[];
  tools?: { name: string; description?: string; parameters?: Record<string, unknown> }[];
  model?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
}

export interface ModelCompletion {
  /** "scripted" for the scripted model, which is never a real model. */
  provider: "openai" | "anthropic" | "scripted";
  model: string;
  message: { role: "assistant"; content: string; toolCalls?: ModelToolCall[] };
  stopReason: "end" | "tool_calls" | "max_tokens" | "stop_sequence" | "refused" | "other";
  usage: { inputTokens: number; outputTokens: number };
}

export interface ModelHandle extends HandleBase {
  /** One whole completion; MODEL_ERROR if the provider fails, LIMIT_EXCEEDED past a budget. */
  complete(request: ModelRequest): Promise<ModelCompletion>;
  attenuate(request: {
    models?: string[];
    maxTokensPerCall?: number;
    totalTokens?: number;
    totalCost?: number;
    requestsPerMinute?: number;
    params?: string[];
    rights?: string[];
  }): Promise<ModelHandle>;
}

export const modelGuest = defineGuestAdapter<ModelHandle>()({
  kind: "model",
  // Whole completions: the guest gets the answer once it is complete (the kernel may stream it from the provider).
  methods: (call) => ({
    complete: (request: ModelRequest) => call("complete", request),
  }),
});
