// What the OpenAI and Anthropic adapters share: the key check, the call's signal and deadline, and reading a
// stream so that a stream cut short, malformed or too slow is MODEL_ERROR (or the kernel's abort reason).
import type { StreamEvent } from "./conversation.ts";
import { abortReason, modelError, redactKey } from "./failures.ts";
import type { CallOptions } from "./provider.ts";

export interface RemoteOptions {
  /** The API key; from the kernel's environment by default (keys.ts). */
  apiKey: string | undefined;
  /** The name of the variable that would hold it, for the message when it is missing. */
  keyVariable: string;
  /** Undefined: the SDK's own default (and its *_BASE_URL variable is not consulted: keys.ts did that). */
  baseURL: string | undefined;
}

export function requireKey(provider: string, options: RemoteOptions): string {
  if (options.apiKey) return options.apiKey;
  throw modelError(
    `no API key for ${provider}: the operator must set ${options.keyVariable} in the kernel's environment (any value for a local server that needs none)`,
  );
}

/** A signal that also fires at the deadline, so a stream that trickles cannot outlive its call. */
export function callSignal(options: CallOptions): AbortSignal {
  const signals: AbortSignal[] = [];
  if (options.signal) signals.push(options.signal);
  if (options.deadline !== undefined)
    signals.push(AbortSignal.timeout(Math.max(0, Math.min(options.deadline - Date.now(), 2 ** 31 - 1))));
  return signals.length === 0 ? new AbortController().signal : AbortSignal.any(signals);
}

/** Reads a provider's stream through its accumulator; failures mid-stream are MODEL_ERROR, never INTERNAL. */
export async function* readStream<Chunk>(
  provider: string,
  key: string,
  options: CallOptions,
  chunks: AsyncIterable<Chunk>,
  state: { push(chunk: Chunk): StreamEvent[] },
): AsyncGenerator<StreamEvent, void, undefined> {
  try {
    for await (const chunk of chunks) yield* state.push(chunk);
    // The SDKs end a stream quietly when its request is aborted: that is a cancellation, not an early end.
    if (options.signal?.aborted) throw abortReason(options.signal, provider);
  } catch (error) {
    if (options.signal?.aborted) throw abortReason(options.signal, provider);
    if (options.deadline !== undefined && Date.now() >= options.deadline)
      throw modelError(`${provider}'s stream did not finish before the call's deadline`);
    if (error instanceof Error && error.name === "WardenError") throw error;
    const words = error instanceof Error ? redactKey(error.message, key) : "unknown failure";
    throw modelError(`${provider}'s stream broke off: ${words}`, new Error(words));
  }
}
