// The conversation handle inside a JS sandbox: the agent's own conversation, kept by the kernel. Guest code.
import { defineGuestAdapter, type HandleBase } from "../guest-kind.ts";

export interface ToolCallMessage {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface ConversationMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  toolCalls?: ToolCallMessage[];
  toolCallId?: string;
  isError?: boolean;
}

export interface ConversationHandle extends HandleBase {
  /** A page of the conversation as the model sees it (compactions applied); `total` is its length. */
  read(options?: {
    from?: number;
    limit?: number;
  }): Promise<{ messages: ConversationMessage[]; total: number }>;
  /** Tool calls of the newest assistant message that have no result yet. */
  pending(): Promise<ToolCallMessage[]>;
  /** Adds a user message or a tool call's result; resolves once it is durable. */
  append(message: ConversationMessage): Promise<{ seq: number }>;
  /** The next turn: the model is sent the journaled conversation and the tools this agent holds. */
  complete(): Promise<ConversationMessage>;
}

export const conversationGuest = defineGuestAdapter<ConversationHandle>()({
  kind: "conversation",
  methods: (call) => ({
    read: (options?: { from?: number; limit?: number }) => call("read", { ...options }),
    pending: () => call("pending", {}),
    append: (message: ConversationMessage) => call("append", { message }),
    complete: () => call("complete", {}),
  }),
});
