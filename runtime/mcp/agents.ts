// A policy's agents over MCP: each is a tool that takes a task and returns the agent's answer, with progress while it runs.
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Tool as McpTool,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { WardenError } from "../errors.ts";
import { stderrReporter } from "../internal.ts";
import type { CallExtra, Catalog } from "./serve.ts";

/** The largest task a client may hand an agent: the model kind's bound on one message's text. */
const MAX_TASK_CHARS = 1 << 20;

const inputSchema = z.strictObject({
  task: z.string().min(1, "task is empty; give the agent something to do").max(MAX_TASK_CHARS),
});

/** What serving an agent needs: its name and description, and how to run one session of it. */
export interface ServedAgent {
  name: string;
  description?: string | undefined;
  run(
    task: string,
    options: { signal?: AbortSignal; onProgress?: (event: ProgressEvent) => void },
  ): Promise<{ session: string; answer: string }>;
}

function definition(agent: ServedAgent): McpTool {
  return {
    name: agent.name,
    description:
      agent.description ??
      `Hand a task to the Warden agent "${agent.name}"; it works in its own sandbox and returns its answer.`,
    inputSchema: {
      type: "object",
      properties: { task: { type: "string", description: "What the agent is to do, in words." } },
      required: ["task"],
      additionalProperties: false,
    },
    outputSchema: {
      type: "object",
      properties: {
        session: { type: "string", description: "The session id: warden agent show SESSION" },
        answer: { type: "string" },
      },
      required: ["session", "answer"],
    },
  };
}

/** What the session runner reports as each model turn and tool call ends. */
export interface ProgressEvent {
  session: string;
  kind: "turn" | "tool";
  detail: string;
}

/** One line for a progress notification (bounded: a detail may quote a model). */
export function progressText(event: ProgressEvent): string {
  const text = `session ${event.session}: ${event.kind === "tool" ? `tool ${event.detail}` : event.detail}`;
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

async function callAgent(agent: ServedAgent, args: unknown, extra: CallExtra = {}): Promise<CallToolResult> {
  const input = inputSchema.safeParse(args ?? {});
  if (!input.success) {
    const why = input.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
    return { isError: true, content: [{ type: "text", text: `INVALID_INPUT: ${why}` }] };
  }
  const { progress } = extra;
  try {
    progress?.(`agent ${agent.name} started`);
    const { session, answer } = await agent.run(input.data.task, {
      ...(extra.signal ? { signal: extra.signal } : {}),
      ...(progress ? { onProgress: (event: ProgressEvent) => progress(progressText(event)) } : {}),
    });
    return { content: [{ type: "text", text: answer }], structuredContent: { session, answer } };
  } catch (error) {
    // As for tools: a failure of Warden is the server's (a protocol error, with an id in the operator log);
    // anything else is the call's result, in words the calling model can act on, without the operator's hint.
    if (!(error instanceof WardenError) || error.code === "INTERNAL") {
      const internal = stderrReporter(error, `MCP call of agent "${agent.name}"`);
      throw Object.assign(new McpError(ErrorCode.InternalError, internal.message), { cause: internal });
    }
    return { isError: true, content: [{ type: "text", text: `${error.code}: ${error.message}` }] };
  }
}

/** Agents as a catalog, served beside the policy's tools (the policy refuses an agent named like a tool). */
export function agentCatalog(agents: readonly ServedAgent[]): Catalog {
  const listed = agents.map(definition);
  const byName = new Map(agents.map((a) => [a.name, a]));
  return {
    list: () => listed,
    call: (name, args, _session, extra) => {
      const agent = byName.get(name);
      return agent ? callAgent(agent, args, extra) : undefined;
    },
  };
}

/** A tool an agent can hold that is not a sandboxed tool: an approved tool of a fronted MCP server. */
export interface FrontedToolTarget {
  readonly definition: { name: string; description: string; inputSchema: Record<string, unknown> };
  call(input: unknown, context: { session: string; signal: AbortSignal }): Promise<unknown>;
}

/**
 * The fronted tool `name` (SERVER__TOOL) as an agent's tool, if its server offers it now: called through
 * the fronted catalog (approval, size and time bounds, audit), its tool error thrown as TOOL_ERROR so the
 * agent's model reads it as one.
 */
export function frontedTool(catalog: Catalog, name: string): FrontedToolTarget | undefined {
  const listed = catalog.list().find((t) => t.name === name);
  if (!listed) return undefined;
  return {
    definition: {
      name,
      description: listed.description ?? "",
      inputSchema: listed.inputSchema as Record<string, unknown>,
    },
    async call(input, { session }) {
      const result = await catalog.call(name, input, `agent session ${session}`);
      if (!result) throw new WardenError("TOOL_ERROR", `tool "${name}" is no longer offered`);
      const text = result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
      if (result.isError) throw new WardenError("TOOL_ERROR", text.slice(0, 4096));
      return result.structuredContent ?? text;
    },
  };
}
