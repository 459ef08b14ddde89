// warden/sdk for tool authors: defineTool, z and the handle types. Inside a sandbox the runtime serves this
// module itself (sdk/guest/prelude.ts); outside, this file gives editors and type checkers the same API.
import { z } from "zod";
import type { CapabilityType, FetchInit, FetchResponse, FsEntry, FsStat, Handles } from "./types.ts";

export type {
  ClockHandle,
  FsHandle,
  KvHandle,
  LogHandle,
  ModelCompletion,
  ModelHandle,
  ModelMessage,
  ModelRequest,
  ModelToolCall,
  NetHandle,
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

/** The error a handle call rejects with: a stable code (CAPABILITY_DENIED, NOT_FOUND, …) and a message. */
export class WardenError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "WardenError";
    this.code = code;
  }
}
