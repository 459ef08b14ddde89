// Types of the handles a tool's run() receives, by capability type. Mirrors sdk/guest/handles.ts.

interface HandleBase {
  readonly kind: string;
  readonly rights: readonly string[];
}

export interface FsEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "other";
}
export interface FsStat {
  type: FsEntry["type"];
  size: number;
  mtimeMs: number;
}

export interface FsHandle extends HandleBase {
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  writeText(path: string, text: string, options?: { append?: boolean }): Promise<null>;
  writeBytes(path: string, bytes: Uint8Array, options?: { append?: boolean }): Promise<null>;
  list(path?: string): Promise<FsEntry[]>;
  stat(path: string): Promise<FsStat>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<null>;
  remove(path: string, options?: { recursive?: boolean }): Promise<null>;
  rename(from: string, to: string): Promise<null>;
  /** A handle to a subdirectory and/or with fewer rights. */
  attenuate(request: { path?: string; rights?: string[] }): Promise<FsHandle>;
}

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly headers: { get(name: string): string | null; entries(): [string, string][] };
  bytes(): Promise<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}
export interface NetHandle extends HandleBase {
  fetch(url: string, init?: FetchInit): Promise<FetchResponse>;
  attenuate(request: { origins?: string[]; rights?: string[] }): Promise<NetHandle>;
}

export interface KvHandle extends HandleBase {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<null>;
  delete(key: string): Promise<boolean>;
  list(prefix?: string, options?: { limit?: number }): Promise<string[]>;
  attenuate(request: { prefix?: string; rights?: string[] }): Promise<KvHandle>;
}

export interface ClockHandle extends HandleBase {
  /** Milliseconds since the epoch, rounded down to the grant's resolution (100 ms by default). */
  now(): Promise<number>;
  /** Waits; bounded by the tool's wall-time limit. */
  sleep(ms: number): Promise<null>;
  attenuate(request: { resolutionMs?: number; rights?: string[] }): Promise<ClockHandle>;
}

export interface LogHandle extends HandleBase {
  debug(...parts: unknown[]): Promise<null>;
  info(...parts: unknown[]): Promise<null>;
  warn(...parts: unknown[]): Promise<null>;
  error(...parts: unknown[]): Promise<null>;
  attenuate(request: { rights?: string[] }): Promise<LogHandle>;
}

/** A message in the provider-neutral conversation (runtime/capabilities/model/conversation.ts). */
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

interface HandleByType {
  fs: FsHandle;
  net: NetHandle;
  kv: KvHandle;
  clock: ClockHandle;
  log: LogHandle;
  model: ModelHandle;
}

export type Handles<C extends Record<string, { type: keyof HandleByType }>> = {
  readonly [K in keyof C]: HandleByType[C[K]["type"]];
};
