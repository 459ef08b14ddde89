// The runtime inside every sandbox: the `warden/sdk` module, the tool's lifecycle (describe, run) and the
// output checker. Bundled with zod into dist/prelude.js (scripts/build-prelude.ts). Runs inside sandboxes only.
import { z } from "zod";
import { utf8Decode, utf8Encode } from "../../runtime/protocol/utf8.ts";
import { type AgentDefinition, agentTool } from "./agent.ts";
import { connect, reply } from "./channel.ts";
import { WardenError } from "./errors.ts";
import { type HandleInfo, makeHandle } from "./handles.ts";

interface ToolDefinition {
  name: string;
  description: string;
  input: z.ZodType;
  output: z.ZodType;
  capabilities?: Record<string, { type: string; rights?: string[] }>;
  idempotent?: boolean;
  /** Set by defineAgent: what the host reads of an agent module besides its tool form. */
  agent?: { instructions: string | undefined; tools: string[] | undefined };
  run: (input: unknown, caps: Record<string, unknown>) => unknown;
}

const BRAND = Symbol("warden.tool");
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function defineTool<T extends ToolDefinition>(definition: T): T {
  if (definition === null || typeof definition !== "object")
    throw new TypeError("defineTool needs an object");
  const { name, description, input, output, run, capabilities } = definition;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `tool name must match ${NAME} (letters, digits, "-" and "_"), got ${JSON.stringify(name)}`,
    );
  }
  if (typeof description !== "string" || description.trim() === "")
    throw new TypeError("a tool needs a description");
  if (!(input instanceof z.ZodType) || !(output instanceof z.ZodType)) {
    throw new TypeError('a tool\'s input and output must be zod schemas (import { z } from "warden/sdk")');
  }
  if (typeof run !== "function") throw new TypeError("a tool needs a run(input, caps) function");
  if (capabilities !== undefined && (capabilities === null || typeof capabilities !== "object")) {
    throw new TypeError("capabilities must be an object of { name: { type, rights } }");
  }
  if (definition.idempotent !== undefined && typeof definition.idempotent !== "boolean")
    throw new TypeError("idempotent must be true or false");
  return Object.freeze({ ...definition, [BRAND]: true });
}

/** Defines an agent: a tool whose input is a task and whose output is the answer (sdk/guest/agent.ts). */
function defineAgent(definition: AgentDefinition) {
  return defineTool(agentTool(definition) as unknown as ToolDefinition);
}

let tool: ToolDefinition | undefined;

function register(candidate: unknown): void {
  if (candidate === null || typeof candidate !== "object" || !(BRAND in candidate)) {
    throw new TypeError("the tool module's default export must be defineTool({ … })");
  }
  tool = candidate as unknown as ToolDefinition;
}

function toJsonSchema(schema: z.ZodType, io: "input" | "output"): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: "any" });
}

function describe(): string {
  if (!tool) throw new TypeError("no tool registered");
  const capabilities: Record<string, { type: string; rights: string[] | null }> = {};
  for (const [name, cap] of Object.entries(tool.capabilities ?? {})) {
    capabilities[name] = {
      type: String(cap?.type),
      rights: Array.isArray(cap?.rights) ? cap.rights.map(String) : null,
    };
  }
  return JSON.stringify({
    name: tool.name,
    description: tool.description,
    inputSchema: toJsonSchema(tool.input, "input"),
    outputSchema: toJsonSchema(tool.output, "output"),
    ...(tool.idempotent === undefined ? {} : { idempotent: tool.idempotent }),
    ...(tool.agent ? { agent: tool.agent } : {}),
    capabilities,
  });
}

const MAX_MESSAGE = 2000;

function failure(code: string, message: string): string {
  return JSON.stringify({ ok: false, error: { code, message: message.slice(0, MAX_MESSAGE) } });
}

async function run(inputJson: string, handlesJson: string): Promise<string> {
  if (!tool) return failure("LOAD_ERROR", "no tool registered");
  const parsed = tool.input.safeParse(JSON.parse(inputJson));
  if (!parsed.success) return failure("INVALID_INPUT", z.prettifyError(parsed.error));
  const caps: Record<string, unknown> = {};
  for (const [name, info] of Object.entries(JSON.parse(handlesJson) as Record<string, HandleInfo>)) {
    caps[name] = makeHandle(info);
  }
  let result: unknown;
  try {
    result = await tool.run(parsed.data, Object.freeze(caps));
  } catch (error) {
    if (error instanceof WardenError) return failure(error.code, error.message);
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return failure("TOOL_ERROR", message);
  }
  const checked = tool.output.safeParse(result);
  if (!checked.success) return failure("INVALID_OUTPUT", z.prettifyError(checked.error));
  const json = JSON.stringify(checked.data);
  if (json === undefined) return failure("INVALID_OUTPUT", "output is not JSON (undefined or a function)");
  return `{"ok":true,"output":${json}}`;
}

const checkers = new Map<string, z.ZodType>();

/**
 * Checks an output against a JSON Schema. The kernel calls this in a fresh context of the sandbox, which
 * the tool's code never ran in, so a tool that poisons its own built-ins cannot pass this check falsely.
 */
function checkOutput(schemaJson: string, outputJson: string): string {
  let checker = checkers.get(schemaJson);
  if (!checker) {
    checker = z.fromJSONSchema(JSON.parse(schemaJson)) as z.ZodType;
    checkers.set(schemaJson, checker);
  }
  const result = checker.safeParse(JSON.parse(outputJson));
  return result.success ? "" : z.prettifyError(result.error);
}

class TextEncoderShim {
  readonly encoding = "utf-8";
  encode(text = ""): Uint8Array {
    return utf8Encode(String(text));
  }
}
class TextDecoderShim {
  readonly encoding = "utf-8";
  decode(bytes?: Uint8Array | ArrayBuffer): string {
    if (bytes === undefined) return "";
    return utf8Decode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  }
}

/**
 * Runs once in every new context, before any tool code. V8 installs some builtins afresh per context, so
 * this cannot live in the snapshot.
 *
 * Memory that V8 allocates outside the JS heap does not count against the isolate's memory limit:
 * WebAssembly memories (and a module's own `memory.grow`) and resizable or growable buffers reached
 * gigabytes under a 16 MiB limit. What cannot be bounded is removed: the WebAssembly namespace, and the
 * methods that grow a buffer in place. Deleting them leaves no other path to them in the context.
 * QuickJS has no WebAssembly and allocates every buffer on its capped heap; it gets the same deletions so
 * that a tool sees one API on every backend.
 */
function setupContext(): void {
  const global = globalThis as Record<string, unknown>;
  delete global.WebAssembly;
  delete (ArrayBuffer.prototype as unknown as Record<string, unknown>).resize;
  if (typeof SharedArrayBuffer === "function") {
    delete (SharedArrayBuffer.prototype as unknown as Record<string, unknown>).grow;
  }
}

const sdk = Object.freeze({ defineTool, defineAgent, z, WardenError });
Object.defineProperties(globalThis, {
  TextEncoder: { value: TextEncoderShim, writable: true, configurable: true },
  TextDecoder: { value: TextDecoderShim, writable: true, configurable: true },
  __warden: {
    value: Object.freeze({ sdk, register, describe, run, reply, connect, checkOutput, setupContext }),
    writable: false,
    configurable: false,
  },
});
