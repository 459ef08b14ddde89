// The scripted model: deterministic turns from a YAML or JSON file, per agent name, one session at a time.
// It is the embedded default (tests, examples, the demo) and what makes a session replayable bit for bit.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { WardenError } from "../../errors.ts";
import {
  type Completion,
  type Message,
  newestText,
  type ProviderRequest,
  type StreamEvent,
  TOOL_CALL_ID,
  TOOL_NAME,
  type ToolCall,
  type Usage,
} from "./conversation.ts";
import { modelError } from "./failures.ts";
import type { CallOptions, ModelProvider } from "./provider.ts";

const MAX_SCRIPT_BYTES = 4 << 20;
/** Sessions whose position a provider remembers; the oldest is forgotten first. */
const MAX_SESSIONS = 10_000;

const turnSchema = z.strictObject({
  text: z.string().default(""),
  tool_calls: z
    .array(
      z.strictObject({
        name: z.string().regex(TOOL_NAME, "tool names are 1-64 letters, digits, '_' and '-'"),
        arguments: z.record(z.string(), z.json()).default({}),
        id: z.string().regex(TOOL_CALL_ID).optional(),
      }),
    )
    .default([]),
  /** The newest message the model receives must contain this text, or the call is MODEL_ERROR. */
  expect: z.string().optional(),
  /** What to charge; by default about four characters a token, in and out. */
  usage: z.strictObject({ input_tokens: z.int().min(0), output_tokens: z.int().min(0) }).optional(),
});
export type ScriptTurn = z.output<typeof turnSchema>;

const scriptSchema = z.record(z.string().min(1), z.array(turnSchema));

/** A parsed script: turns per agent name. `label` (the file's base name) is how errors name it. */
export class Script {
  readonly label: string;
  private readonly agents: Map<string, readonly ScriptTurn[]>;

  constructor(label: string, agents: Record<string, ScriptTurn[]>) {
    this.label = label;
    this.agents = new Map(Object.entries(agents));
  }

  agentNames(): string[] {
    return [...this.agents.keys()];
  }

  turns(agent: string): readonly ScriptTurn[] {
    return this.agents.get(agent) ?? [];
  }

  /**
   * The completion for an agent's turn `index` (from 0), given the conversation so far. Stateless: a session
   * replayed from its journal asks for the turn after the model calls it has already made.
   */
  respond(agent: string, index: number, messages: readonly Message[]): Completion {
    const turns = this.turns(agent);
    const where = `scripted model (${this.label}), agent "${agent}"`;
    const turn = turns[index];
    if (!turn) {
      throw modelError(
        turns.length === 0
          ? `${where} has no turns: the script names ${
              this.agentNames()
                .map((a) => `"${a}"`)
                .join(", ") || "no agent"
            }`
          : `${where} has no turn ${index + 1}: the script gives it ${turns.length}`,
      );
    }
    if (turn.expect !== undefined && !newestText(messages).includes(turn.expect)) {
      throw modelError(
        `${where}, turn ${index + 1}: the newest message does not contain ${JSON.stringify(turn.expect)}`,
      );
    }
    const toolCalls: ToolCall[] = turn.tool_calls.map((c, i) => ({
      id: c.id ?? `call_${index + 1}_${i + 1}`,
      name: c.name,
      arguments: c.arguments,
    }));
    return {
      provider: "scripted",
      model: "scripted",
      message: toolCalls.length
        ? { role: "assistant", content: turn.text, toolCalls }
        : { role: "assistant", content: turn.text },
      stopReason: toolCalls.length ? "tool_calls" : "end",
      usage: turn.usage
        ? { inputTokens: turn.usage.input_tokens, outputTokens: turn.usage.output_tokens }
        : estimateUsage(messages, turn),
    };
  }
}

function estimateUsage(messages: readonly Message[], turn: ScriptTurn): Usage {
  const tokens = (text: string) => Math.ceil(Buffer.byteLength(text) / 4);
  return {
    inputTokens: tokens(JSON.stringify(messages)),
    outputTokens: tokens(turn.text + JSON.stringify(turn.tool_calls)),
  };
}

/** Parses a script's text (YAML, of which JSON is a part); USAGE naming the file if it is not one. */
export function parseScript(text: string, label: string): Script {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new WardenError(
      "USAGE",
      `scripted model ${label} is not YAML or JSON: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const parsed = scriptSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new WardenError(
      "USAGE",
      `scripted model ${label} is not a script (a list of turns per agent name): ${z.prettifyError(parsed.error)}`,
    );
  }
  return new Script(label, parsed.data);
}

/** Reads a script file; USAGE naming it (by base name: errors may reach a guest) if it cannot be. */
export async function loadScript(path: string): Promise<Script> {
  const label = basename(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new WardenError("USAGE", `cannot read scripted model ${label}`);
  }
  if (bytes.byteLength > MAX_SCRIPT_BYTES)
    throw new WardenError("USAGE", `scripted model ${label} is over 4 MiB`);
  return parseScript(bytes.toString("utf8"), label);
}

/**
 * The scripted model as a provider. Each of a session's calls takes that session's next turn; every session
 * of an agent starts at its first turn. `options.agent` names the agent; `options.session` the session.
 */
export function createScriptedProvider(
  script: Script,
): ModelProvider & { position(agent: string, session: string): number } {
  const next = new Map<string, number>();
  const keyOf = (agent: string, session: string) => JSON.stringify([agent, session]);
  const take = (request: ProviderRequest, options: CallOptions): Completion => {
    if (options.signal?.aborted) throw options.signal.reason;
    if (options.agent === undefined)
      throw modelError(`scripted model (${script.label}) was called without an agent name`);
    const key = keyOf(options.agent, options.session ?? "");
    const index = next.get(key) ?? 0;
    const completion = script.respond(options.agent, index, request.messages);
    next.delete(key); // re-inserted last, so the map's order is least recently used first
    next.set(key, index + 1);
    if (next.size > MAX_SESSIONS) next.delete(next.keys().next().value as string);
    return completion;
  };
  return {
    name: "scripted",
    position: (agent, session) => next.get(keyOf(agent, session)) ?? 0,
    async complete(request, options = {}) {
      return take(request, options);
    },
    async *stream(request, options = {}): AsyncGenerator<StreamEvent, void, undefined> {
      const completion = take(request, options);
      // Word by word, so a consumer of a stream meets several text events as it would from a provider.
      for (const piece of completion.message.content.match(/\S+\s*|\s+/g) ?? [])
        yield { type: "text", text: piece };
      for (const call of completion.message.toolCalls ?? []) yield { type: "tool_call", call };
      yield { type: "done", completion };
    },
  };
}
