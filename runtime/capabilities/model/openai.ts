// The OpenAI adapter: Chat Completions through the official `openai` SDK, whole or streamed, with tool calls.
// Any OpenAI-compatible server (llama.cpp, Ollama, vLLM) works through the base URL.
import OpenAI from "openai";
import type { Completion, ProviderRequest, StreamEvent } from "./conversation.ts";
import { withRetries } from "./failures.ts";
import { fromOpenAICompletion, OpenAIStream, toOpenAIRequest } from "./openai-wire.ts";
import type { CallOptions, ModelProvider } from "./provider.ts";
import { callSignal, type RemoteOptions, readStream, requireKey } from "./remote.ts";

export function createOpenAIProvider(options: RemoteOptions): ModelProvider {
  let client: OpenAI | undefined;
  const connect = (key: string) =>
    // SDK retries off: withRetries owns them, so they honour the call's deadline and signal.
    (client ??= new OpenAI({ apiKey: key, baseURL: options.baseURL ?? null, maxRetries: 0 }));
  const tokenField = options.baseURL === undefined ? "max_completion_tokens" : "max_tokens";
  return {
    name: "openai",
    async complete(request: ProviderRequest, call: CallOptions = {}): Promise<Completion> {
      const key = requireKey("openai", options);
      const body = toOpenAIRequest(request, tokenField);
      const signal = callSignal(call);
      const raw: unknown = await withRetries("openai", key, { ...call, signal }, (timeout) =>
        connect(key).chat.completions.create(body, { signal, timeout, maxRetries: 0 }),
      );
      return fromOpenAICompletion(raw, request.model);
    },
    async *stream(
      request: ProviderRequest,
      call: CallOptions = {},
    ): AsyncGenerator<StreamEvent, void, undefined> {
      const key = requireKey("openai", options);
      const body = {
        ...toOpenAIRequest(request, tokenField),
        stream: true as const,
        stream_options: { include_usage: true },
      };
      const signal = callSignal(call);
      const chunks = await withRetries("openai", key, { ...call, signal }, (timeout) =>
        connect(key).chat.completions.create(body, { signal, timeout, maxRetries: 0 }),
      );
      const state = new OpenAIStream(request.model);
      yield* readStream("openai", key, { ...call, signal }, chunks, state);
      const completion = state.done();
      // OpenAI streams a call's arguments in pieces: each call is whole only now.
      for (const c of completion.message.toolCalls ?? []) yield { type: "tool_call", call: c };
      yield { type: "done", completion };
    },
  };
}
