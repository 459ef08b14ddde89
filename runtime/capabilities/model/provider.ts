// The interface every model adapter implements (openai, anthropic, scripted), and what one call is given.
import type { Completion, ProviderName, ProviderRequest, StreamEvent } from "./conversation.ts";

export interface CallOptions {
  /** Aborting it aborts the HTTP request (the tool call ended, the handle was revoked). */
  signal?: AbortSignal;
  /** Epoch ms after which no retry is started and the call fails: retries stay within the call's deadline. */
  deadline?: number;
  /** Who is calling and in which session: the scripted model takes that session's next turn. */
  agent?: string;
  session?: string;
}

export interface ModelProvider {
  readonly name: ProviderName;
  /** One whole completion. Failures are WardenErrors: MODEL_ERROR, or the signal's own reason. */
  complete(request: ProviderRequest, options?: CallOptions): Promise<Completion>;
  /** The same completion as it arrives; the last event is `done`, carrying what `complete` would return. */
  stream(request: ProviderRequest, options?: CallOptions): AsyncGenerator<StreamEvent, void, undefined>;
}
