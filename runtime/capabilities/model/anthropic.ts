// The Anthropic adapter: the Messages API through the official `@anthropic-ai/sdk`, whole or streamed, with tool calls.
import Anthropic from "@anthropic-ai/sdk";
import { AnthropicStream, fromAnthropicResponse, toAnthropicRequest } from "./anthropic-wire.ts";
import type { Completion, ProviderRequest, StreamEvent } from "./conversation.ts";
import { withRetries } from "./failures.ts";
import type { CallOptions, ModelProvider } from "./provider.ts";
import { callSignal, type RemoteOptions, readStream, requireKey } from "./remote.ts";

export function createAnthropicProvider(options: RemoteOptions): ModelProvider {
  let client: Anthropic | undefined;
  const connect = (key: string) =>
    // The key is passed, never left to the SDK to find: it would otherwise look in profiles on disk.
    (client ??= new Anthropic({ apiKey: key, baseURL: options.baseURL ?? null, maxRetries: 0 }));
  return {
    name: "anthropic",
    async complete(request: ProviderRequest, call: CallOptions = {}): Promise<Completion> {
      const key = requireKey("anthropic", options);
      const body = toAnthropicRequest(request);
      const signal = callSignal(call);
      const raw: unknown = await withRetries("anthropic", key, { ...call, signal }, (timeout) =>
        connect(key).messages.create(body, { signal, timeout, maxRetries: 0 }),
      );
      return fromAnthropicResponse(raw, request.model);
    },
    async *stream(
      request: ProviderRequest,
      call: CallOptions = {},
    ): AsyncGenerator<StreamEvent, void, undefined> {
      const key = requireKey("anthropic", options);
      const body = { ...toAnthropicRequest(request), stream: true as const };
      const signal = callSignal(call);
      const events = await withRetries("anthropic", key, { ...call, signal }, (timeout) =>
        connect(key).messages.create(body, { signal, timeout, maxRetries: 0 }),
      );
      const state = new AnthropicStream(request.model);
      yield* readStream("anthropic", key, { ...call, signal }, events, state);
      yield { type: "done", completion: state.done() };
    },
  };
}
