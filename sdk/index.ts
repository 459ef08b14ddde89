// warden/sdk for tool authors: defineTool, z and the handle types. Inside a sandbox the runtime serves this
// module itself (sdk/guest/prelude.ts); outside, this file gives editors and type checkers the same API.
import { z } from "zod";
import type {
  CapabilityType,
  ConversationHandle,
  FetchInit,
  FetchResponse,
  FsEntry,
  FsStat,
  Handles,
  ToolHandle,
} from "./types.ts";

export type {
  ClockHandle,
  ConversationHandle,
  FsHandle,
  KvHandle,
  LogHandle,
  ModelCompletion,
  ModelHandle,
  ModelMessage,
  ModelRequest,
  ModelToolCall,
  NetHandle,
  ToolHandle,
} from "./types.ts";
export type { FetchInit, FetchResponse, FsEntry, FsStat, Handles };
export { z };

/** A capability a tool declares it needs: its type and (optionally) the rights it will use. */
export interface CapabilityDeclaration {
  type: CapabilityType;
  rights?: readonly string[];
}

export interface ToolDefinition<
  I extends z.ZodType,
  O extends z.ZodType,
  C extends Record<string, CapabilityDeclaration>,
> {
  /** Letters, digits, "-" and "_"; starts with a letter; at most 64 characters. */
  name: string;
  description: string;
  input: I;
  output: O;
  capabilities?: C;
  /**
   * Running it twice has the same effect as once (a read, a pure computation). An agent session resumed after
   * the kernel died while this tool ran runs it again; otherwise the model is told its outcome is unknown.
   */
  idempotent?: boolean;
  run(input: z.output<I>, caps: Handles<C>): z.input<O> | Promise<z.input<O>>;
}

/** Defines a tool. The module's default export must be the result. */
export function defineTool<
  I extends z.ZodType,
  O extends z.ZodType,
  C extends Record<string, CapabilityDeclaration> = Record<string, never>,
>(definition: ToolDefinition<I, O, C>): ToolDefinition<I, O, C> {
  return Object.freeze({ ...definition });
}

/** What an agent's program gets: its own conversation, the tools it holds by name, and its other grants. */
export interface AgentCaps {
  conversation: ConversationHandle;
  tools: Readonly<Record<string, ToolHandle>>;
  readonly [name: string]: unknown;
}

export interface AgentDefinition {
  /** Letters, digits, "-" and "_"; starts with a letter; at most 64 characters. */
  name: string;
  description?: string;
  /** The system message every session of this agent opens with (a policy's instructions take precedence). */
  instructions?: string;
  /** Names of the tools it may call (a policy's list takes precedence). */
  tools?: string[];
  capabilities?: Record<string, CapabilityDeclaration>;
  context?: { overflow: "refuse" | "drop-tool-results" | "summarise" };
  limits?: { turns?: number; tokens?: number; cost?: number; wallMs?: number; contextTokens?: number };
  /**
   * The agent's own program, run in its sandbox with the same handles; without it the SDK's standard loop runs
   * (model turn, tool calls, results, until a final answer or a budget ends). Returns the answer.
   */
  run?(task: string, caps: AgentCaps): string | Promise<string>;
}

/** Defines an agent. The module's default export must be the result (inside a sandbox it runs as a program). */
export function defineAgent(definition: AgentDefinition): AgentDefinition {
  return Object.freeze({ ...definition });
}

/** The error a handle call rejects with: a stable code (CAPABILITY_DENIED, NOT_FOUND, …) and a message. */
export class WardenError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "WardenError";
    this.code = code;
  }
}
