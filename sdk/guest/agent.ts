// defineAgent inside a sandbox, and the standard loop an agent runs when it brings no run() of its own: model
// turn, tool calls through the handles the agent holds, results, repeat until a final answer. Guest code.
import { z } from "zod";
import type { ConversationHandle, ToolCallMessage } from "../../runtime/capabilities/conversation/guest.ts";
import {
  type ToolHandle,
  toolErrorContent,
  toolResultContent,
} from "../../runtime/capabilities/tool/guest.ts";
import { WardenError } from "./errors.ts";

/** What an agent's program gets: its conversation, its tools by name, and any other handle by its grant's name. */
export interface AgentCaps {
  conversation: ConversationHandle;
  tools: Readonly<Record<string, ToolHandle>>;
  [name: string]: unknown;
}

export interface AgentDefinition {
  name: string;
  description?: string;
  instructions?: string;
  tools?: string[];
  capabilities?: Record<string, { type: string; rights?: string[] }>;
  context?: { overflow: string };
  limits?: Record<string, number>;
  run?: (task: string, caps: AgentCaps) => unknown;
}

/** Where tool handles sit in an agent sandbox's table: `tool:NAME`, apart from its grants' names. */
export const TOOL_HANDLE_PREFIX = "tool:";

/** Groups the flat handles a sandbox run gets into an agent's caps. */
export function agentCaps(flat: Record<string, unknown>): AgentCaps {
  const tools: Record<string, ToolHandle> = {};
  const rest: Record<string, unknown> = {};
  for (const [name, handle] of Object.entries(flat)) {
    const kind = (handle as { kind?: unknown }).kind;
    if (kind === "tool" && name.startsWith(TOOL_HANDLE_PREFIX))
      tools[name.slice(TOOL_HANDLE_PREFIX.length)] = handle as ToolHandle;
    else rest[name] = handle;
  }
  const conversation = rest.conversation as ConversationHandle | undefined;
  if (!conversation) throw new WardenError("CAPABILITY_DENIED", "this program was not given a conversation");
  return Object.freeze({ ...rest, conversation, tools: Object.freeze(tools) });
}

/** The result of one tool call as the tool message the model reads; a call of a tool not held is an error. */
async function answer(call: ToolCallMessage, tools: AgentCaps["tools"]) {
  const tool = Object.hasOwn(tools, call.name) ? tools[call.name] : undefined;
  if (!tool) {
    const held = Object.keys(tools);
    return {
      content: toolErrorContent(
        "CAPABILITY_DENIED",
        `this agent holds no tool "${call.name}"; it holds: ${held.join(", ") || "none"}`,
      ),
      isError: true,
    };
  }
  try {
    return { content: toolResultContent(await tool.call(call.arguments, { id: call.id })), isError: false };
  } catch (error) {
    const code = error instanceof WardenError ? error.code : "TOOL_ERROR";
    const message = error instanceof Error ? error.message : String(error);
    return { content: toolErrorContent(code, message), isError: true };
  }
}

/**
 * The standard loop. It starts by answering tool calls left without a result (a session resumed after the
 * kernel died), so the same loop runs a fresh session and a resumed one. Budgets are the kernel's to enforce.
 */
export async function standardLoop(_task: string, caps: AgentCaps): Promise<string> {
  const { conversation, tools } = caps;
  for (;;) {
    let calls = await conversation.pending();
    if (calls.length === 0) {
      const turn = await conversation.complete();
      calls = turn.toolCalls ?? [];
      if (calls.length === 0) return turn.content;
    }
    for (const call of calls) {
      const result = await answer(call, tools);
      await conversation.append({
        role: "tool",
        toolCallId: call.id,
        content: result.content,
        isError: result.isError,
      });
    }
  }
}

/** The tool definition an agent module stands for: input a task, output an answer, run its program. */
export function agentTool(definition: AgentDefinition) {
  if (definition === null || typeof definition !== "object")
    throw new TypeError("defineAgent needs an object");
  const { run } = definition;
  if (run !== undefined && typeof run !== "function")
    throw new TypeError("an agent's run must be a function");
  const program = run ?? standardLoop;
  return {
    name: definition.name,
    description: definition.description ?? definition.instructions ?? `agent ${String(definition.name)}`,
    input: z.strictObject({ task: z.string() }),
    output: z.strictObject({ answer: z.string() }),
    capabilities: definition.capabilities ?? {},
    agent: {
      instructions: typeof definition.instructions === "string" ? definition.instructions : undefined,
      tools: Array.isArray(definition.tools) ? definition.tools.map(String) : undefined,
    },
    run: async (input: { task: string }, caps: Record<string, unknown>) => {
      const answer = await program(input.task, agentCaps(caps));
      return { answer: typeof answer === "string" ? answer : (JSON.stringify(answer) ?? "") };
    },
  };
}
