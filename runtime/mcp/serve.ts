// Serving sandboxed tools over MCP: tools/list offers exactly the tools given; tools/call runs one in its sandbox.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool as McpTool,
  type ProgressToken,
  type ServerNotification,
} from "@modelcontextprotocol/sdk/types.js";
import { WardenError } from "../errors.ts";
import { stderrReporter } from "../internal.ts";
import type { Tool } from "../tool.ts";

export interface ServeOptions {
  name?: string;
  version?: string;
  /** Names the client session in audit records ("stdio", or an HTTP session id). */
  session: string;
}

/** What a tool looks like to an MCP client; a tool whose input is not an object cannot be offered. */
export function describeForMcp(tool: Tool): McpTool {
  const { inputSchema, outputSchema } = tool.definition;
  if (inputSchema.type !== "object") {
    throw new WardenError(
      "USAGE",
      `tool "${tool.name}" cannot be served over MCP: its input must be an object (z.object({...})), not ${String(inputSchema.type ?? "untyped")}`,
    );
  }
  const listed: McpTool = {
    name: tool.name,
    description: tool.definition.description,
    inputSchema: { ...inputSchema, type: "object" },
  };
  // MCP structured content must be an object; other outputs are returned as text only.
  if (outputSchema.type === "object") listed.outputSchema = { ...outputSchema, type: "object" };
  return listed;
}

/** The result of one call, as a model will read it: output as JSON text (and structured), or a readable error. */
export async function callForMcp(tool: Tool, args: unknown, session: string): Promise<CallToolResult> {
  try {
    const output = await tool.call(args ?? {}, { session });
    const result: CallToolResult = { content: [{ type: "text", text: JSON.stringify(output) }] };
    if (tool.definition.outputSchema.type === "object")
      result.structuredContent = output as Record<string, unknown>;
    return result;
  } catch (error) {
    // Internal failures are the server's, reported as protocol errors; everything else is the call's result,
    // in words a model can act on. The operator-only hint (grants, host paths) stays out of the model's context.
    if (!(error instanceof WardenError) || error.code === "INTERNAL") {
      // Tool.call reports its own internal failures; anything else is logged here. The client gets the id.
      const internal = stderrReporter(error, `MCP call of tool "${tool.name}"`);
      throw Object.assign(new McpError(ErrorCode.InternalError, internal.message), { cause: internal });
    }
    return { isError: true, content: [{ type: "text", text: `${error.code}: ${error.message}` }] };
  }
}

/** What a long call may use from its request: the client's cancellation, and progress notifications. */
export interface CallExtra {
  /** Aborted when the client cancels the request or the connection closes. */
  signal?: AbortSignal;
  /** Sends the client a progress notification, when it asked for them (a progressToken). */
  progress?: (message: string) => void;
}

/** What an MCP server offers: a list of tool definitions and a way to call each. */
export interface Catalog {
  list(): McpTool[];
  /** Undefined when the catalog has no tool of this name. */
  call(name: string, args: unknown, session: string, extra?: CallExtra): Promise<CallToolResult> | undefined;
  /** For a catalog whose list can change while it is served: calls `listener` after each change. */
  subscribe?(listener: () => void): () => void;
}

/** Warden's own sandboxed tools as a catalog. */
export function sandboxCatalog(tools: readonly Tool[]): Catalog {
  const listed = tools.map(describeForMcp);
  const byName = new Map(tools.map((t) => [t.name, t]));
  if (byName.size !== tools.length)
    throw new WardenError("USAGE", "two tools with the same name cannot be served together");
  return {
    list: () => listed,
    call: (name, args, session) => {
      const tool = byName.get(name);
      return tool ? callForMcp(tool, args, session) : undefined;
    },
  };
}

/** Several catalogs served as one; a name offered twice is refused, so no catalog can shadow another's tool. */
export function combine(catalogs: readonly Catalog[]): Catalog {
  return {
    list: () => {
      const tools = catalogs.flatMap((c) => c.list());
      const names = new Set<string>();
      for (const tool of tools) {
        if (names.has(tool.name))
          throw new WardenError("USAGE", `two catalogs both offer a tool named "${tool.name}"`);
        names.add(tool.name);
      }
      return tools;
    },
    call: (name, args, session, extra) => {
      for (const catalog of catalogs) {
        const result = catalog.call(name, args, session, extra);
        if (result) return result;
      }
      return undefined;
    },
    subscribe: (listener) => {
      const stops = catalogs.map((c) => c.subscribe?.(listener));
      return () => {
        for (const stop of stops) stop?.();
      };
    },
  };
}

/**
 * Progress notifications for one request, numbered from 1, only when the client asked for them. A
 * notification that cannot be sent (the client went away) is dropped: the call's own result says the rest.
 */
function progressSender(
  token: ProgressToken | undefined,
  send: (notification: ServerNotification) => Promise<void>,
): ((message: string) => void) | undefined {
  if (token === undefined) return undefined;
  let progress = 0;
  return (message) => {
    progress += 1;
    send({ method: "notifications/progress", params: { progressToken: token, progress, message } }).catch(
      () => undefined,
    );
  };
}

/** One MCP server (one per client connection) over a catalog, or over a fixed set of loaded tools. */
export function createMcpServer(offer: readonly Tool[] | Catalog, options: ServeOptions): Server {
  const catalog = Array.isArray(offer) ? sandboxCatalog(offer as readonly Tool[]) : (offer as Catalog);
  catalog.list(); // refuses a bad catalog now, not at the first client's request
  const server = new Server(
    { name: options.name ?? "warden", version: options.version ?? "0.1.0" },
    { capabilities: { tools: { listChanged: catalog.subscribe !== undefined } } },
  );
  // A tool withdrawn during the session (a fronted server changed or stopped): clients list again.
  const stop = catalog.subscribe?.(() => {
    server.sendToolListChanged().catch(() => undefined);
  });
  server.onclose = () => stop?.();
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: catalog.list() }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const client = server.getClientVersion();
    const session = client ? `${options.session} (${client.name} ${client.version})` : options.session;
    const result = catalog.call(request.params.name, request.params.arguments, session, {
      signal: extra.signal,
      progress: progressSender(request.params._meta?.progressToken, extra.sendNotification),
    });
    if (!result) throw new McpError(ErrorCode.InvalidParams, `unknown tool "${request.params.name}"`);
    return result;
  });
  return server;
}
