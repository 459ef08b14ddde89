// The tool handle inside a JS sandbox: one tool an agent may call. Guest code (no Node types).
import { defineGuestAdapter, type HandleBase } from "../guest-kind.ts";

export interface ToolHandle extends HandleBase {
  /** The tool's pinned definition: name, description, input schema, whether it is idempotent. */
  describe(): Promise<{ name: string; description: string; inputSchema: unknown; idempotent: boolean }>;
  /** Calls the tool; `id` is the model's tool call id, which the session journals the call under. */
  call(input: unknown, options?: { id?: string }): Promise<unknown>;
}

export const toolGuest = defineGuestAdapter<ToolHandle>()({
  kind: "tool",
  methods: (call) => ({
    describe: () => call("describe", {}),
    call: (input: unknown, options?: { id?: string }) =>
      call("call", options?.id === undefined ? { input } : { input, id: options.id }),
  }),
});

/** A tool's result as a tool message's content: text as it is, anything else as JSON. Shared with the kernel. */
export function toolResultContent(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "null");
}

/** A failed call as a tool message's content, which the model reads: the code and the message. */
export function toolErrorContent(code: string, message: string): string {
  return `${code}: ${message}`;
}
