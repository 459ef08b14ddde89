// One session while its program runs: what the conversation and tool handles of its sandbox reach. It journals
// each model call and tool call (write-ahead), enforces the agent's turn and token budgets, and in a replay
// answers from the journal instead, noting whether each request matched it.
import { createHash } from "node:crypto";
import type { AuditLog } from "../audit.ts";
import type { AssistantMessage, Completion, Message, ToolSpec } from "../capabilities/model/conversation.ts";
import { WardenError } from "../errors.ts";
import { Conversation, type Overflow } from "./conversation.ts";
import type { SessionModel } from "./model.ts";
import type { ModelStep, Session, SessionStore, Step, ToolStep } from "./store.ts";

/** A tool an agent may hold a handle to: a sandboxed tool the runtime loaded, or an approved MCP server tool. */
export interface ToolTarget {
  readonly definition: {
    name: string;
    description: string;
    inputSchema: Record<string, unknown>;
    idempotent?: boolean | undefined;
  };
  call(input: unknown, context: { session: string; signal: AbortSignal }): Promise<unknown>;
}

export interface AgentLimits {
  turns?: number;
  tokens?: number;
  cost?: number;
  wallMs?: number;
  contextTokens?: number;
}

/** One step of a replay: whether what the program asked for matched what the journal recorded. */
export interface ReplayStep {
  kind: "model" | "tool" | "answer";
  index: number;
  matched: boolean;
  detail?: string;
}

/** The journal a replay answers from, and what it found. */
export interface Replaying {
  steps: Step[];
  report: ReplayStep[];
}

export interface LiveParts {
  store: SessionStore;
  session: Session;
  model: SessionModel;
  tools: ReadonlyMap<string, ToolTarget>;
  limits: AgentLimits;
  overflow: Overflow;
  audit: AuditLog;
  /** The names of the tools the sandbox holds live handles for: what the model is offered. */
  held: () => string[];
  replay?: Replaying;
  /** Told of each turn and tool call as it ends (MCP progress notifications). */
  progress?: (event: { session: string; kind: "turn" | "tool"; detail: string }) => void;
}

export const digest = (value: unknown): string =>
  createHash("sha256")
    .update(JSON.stringify(value) ?? "null")
    .digest("hex");

/** Reading a conversation is bounded per call; a program pages through a longer one. */
export const MAX_READ = 200;
export const MAX_READ_BYTES = 4 << 20;

const SUMMARY_INSTRUCTION =
  "Summarise the conversation above in a few sentences: what was asked, which tools were called and what they returned. Keep facts, names and numbers.";

export class LiveSession {
  readonly id: string;
  readonly agent: string;
  readonly task: string;
  readonly store: SessionStore;
  conversation!: Conversation;
  private readonly parts: LiveParts;
  private steps: Step[] = [];
  private spent: Session["spent"];
  /** One sandbox: calls on a session's conversation are made one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(parts: LiveParts) {
    this.parts = parts;
    this.id = parts.session.id;
    this.agent = parts.session.agent;
    this.task = parts.session.task;
    this.store = parts.store;
    this.spent = { ...parts.session.spent };
  }

  static async open(parts: LiveParts): Promise<LiveSession> {
    const live = new LiveSession(parts);
    live.steps = await parts.store.steps(live.id);
    live.conversation = await Conversation.open(parts.store, live.id, {
      contextTokens: parts.limits.contextTokens,
      overflow: parts.overflow,
      summarise: (messages) => live.summarise(messages),
    });
    return live;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private nextIndex(): number {
    return (this.steps.at(-1)?.index ?? -1) + 1;
  }

  private modelSteps(): ModelStep[] {
    return this.steps.filter((s): s is ModelStep => s.kind === "model");
  }

  private async putStep(step: Step): Promise<void> {
    await this.store.putStep(this.id, step);
    const at = this.steps.findIndex((s) => s.index === step.index);
    if (at >= 0) this.steps[at] = step;
    else this.steps.push(step);
  }

  /** Messages of the view from `from` (0-based), at most `limit`. */
  read(
    from = 0,
    limit = MAX_READ,
    reserve?: (bytes: number) => void,
  ): { messages: Message[]; total: number } {
    const all = this.conversation.messages();
    const page: Message[] = [];
    let bytes = 0;
    // Bounded in bytes as well as count (a message may hold a megabyte); at least one message, so paging advances.
    for (const message of all.slice(from, from + Math.min(limit, MAX_READ))) {
      const size = Buffer.byteLength(JSON.stringify(message));
      if (page.length > 0 && bytes + size > MAX_READ_BYTES) break;
      reserve?.(size);
      bytes += size;
      page.push(message);
    }
    return { messages: page, total: all.length };
  }

  pending() {
    return this.conversation.pending();
  }

  /** A message the program adds: a user message, or a tool call's result. */
  append(message: Message): Promise<number> {
    return this.serial(async () => {
      if (message.role !== "user" && message.role !== "tool")
        throw new WardenError(
          "INVALID_ARGUMENT",
          `a program may append user and tool messages, not ${message.role}`,
        );
      return this.conversation.append(message);
    });
  }

  /** One turn: the kernel sends the conversation as journaled, with the tools the sandbox holds. */
  complete(signal: AbortSignal): Promise<AssistantMessage> {
    return this.serial(async () => {
      const { limits } = this.parts;
      const waiting = this.conversation.pending();
      if (waiting.length)
        throw new WardenError(
          "INVALID_ARGUMENT",
          `append the results of tool calls ${waiting.map((c) => `"${c.id}"`).join(", ")} first`,
        );
      if (limits.turns !== undefined && this.spent.turns >= limits.turns)
        throw new WardenError(
          "LIMIT_EXCEEDED",
          `the agent's turns budget (limits.turns ${limits.turns}) is spent`,
        );
      if (limits.tokens !== undefined && this.spent.tokens >= limits.tokens)
        throw new WardenError(
          "LIMIT_EXCEEDED",
          `the agent's tokens budget (limits.tokens ${limits.tokens}) is spent`,
        );
      const compaction = await this.conversation.fit();
      if (compaction)
        this.parts.audit.record({
          event: "compaction",
          tool: this.agent,
          sandbox: this.id,
          session: this.id,
          op: compaction.strategy,
          summary: `${compaction.replaced.length} messages, ${compaction.tokensBefore} to ${compaction.tokensAfter} tokens`,
          decision: "allow",
        });
      const tools = this.toolSpecs();
      const completion = await this.call({ messages: this.conversation.messages(), tools }, signal, "turn");
      this.spent = { ...this.spent, turns: this.spent.turns + 1 };
      await this.store.update(this.id, { spent: this.spent });
      this.parts.progress?.({
        session: this.id,
        kind: "turn",
        detail: `turn ${this.spent.turns}: ${completion.message.toolCalls?.length ?? 0} tool calls`,
      });
      return completion.message;
    });
  }

  /** The tools offered to the model: exactly those the sandbox holds, with their pinned definitions. */
  private toolSpecs(): ToolSpec[] {
    const specs: ToolSpec[] = [];
    for (const name of this.parts.held()) {
      const target = this.parts.tools.get(name);
      if (!target) continue;
      specs.push({
        name,
        description: target.definition.description,
        parameters: target.definition.inputSchema as ToolSpec["parameters"],
      });
    }
    return specs;
  }

  /**
   * A model call, journaled write-ahead: the step (with the completion) first, then the assistant message,
   * so a kernel killed between them is repaired on resume from the step.
   */
  private async call(
    request: { messages: Message[]; tools: ToolSpec[] },
    signal: AbortSignal,
    purpose: "turn" | "summary",
  ): Promise<Completion> {
    const index = this.modelSteps().length;
    const requestDigest = digest(request);
    let completion: Completion;
    const replay = this.parts.replay;
    if (replay) {
      const recorded = replay.steps.filter((s): s is ModelStep => s.kind === "model")[index];
      if (!recorded) {
        replay.report.push({
          kind: "model",
          index,
          matched: false,
          detail: "the journal has no such model call",
        });
        throw new WardenError("MODEL_ERROR", `the journal being replayed has no model call ${index + 1}`);
      }
      const matched = recorded.requestDigest === requestDigest;
      replay.report.push({
        kind: "model",
        index,
        matched,
        ...(matched ? {} : { detail: "the request differs from the journaled one" }),
      });
      completion = recorded.completion;
    } else {
      completion = await this.parts.model.complete(request, {
        agent: this.agent,
        session: this.id,
        turn: index,
        signal,
      });
    }
    const { usage } = completion;
    const step: ModelStep = {
      kind: "model",
      index: this.nextIndex(),
      seenTo: this.conversation.lastSeq,
      requestDigest,
      completion,
      seq: purpose === "turn" ? this.conversation.lastSeq + 1 : 0,
      ...(purpose === "summary" ? { purpose } : {}),
    };
    await this.putStep(step);
    if (purpose === "turn") await this.conversation.appendCompletion(completion.message, usage);
    this.spent = { ...this.spent, tokens: this.spent.tokens + usage.inputTokens + usage.outputTokens };
    this.parts.audit.record({
      event: "model",
      tool: this.agent,
      sandbox: this.id,
      session: this.id,
      op: purpose,
      summary: `${completion.provider} ${completion.model.slice(0, 256)}: ${request.messages.length} messages, ${request.tools.length} tools, ${usage.inputTokens} in, ${usage.outputTokens} out, ${completion.stopReason}`,
      decision: "allow",
    });
    return completion;
  }

  /** What summarise compactions call: the agent's own model, journaled like any other model call. */
  private async summarise(messages: Message[]): Promise<string> {
    const system = this.conversation.messages()[0];
    const request = {
      messages: [
        ...(system?.role === "system" ? [system] : []),
        ...messages,
        { role: "user", content: SUMMARY_INSTRUCTION } as const,
      ],
      tools: [],
    };
    const completion = await this.call(request, AbortSignal.timeout(120_000), "summary");
    return completion.message.content;
  }

  /**
   * A call of a tool the sandbox holds a handle to. Journaled `started` before it runs and with its outcome
   * after; a call the journal already has an outcome for returns that outcome and is not run again.
   */
  async callTool(
    name: string,
    input: unknown,
    callId: string | undefined,
    signal: AbortSignal,
  ): Promise<unknown> {
    const target = this.parts.tools.get(name);
    if (!target) throw new WardenError("CAPABILITY_DENIED", `this agent holds no tool "${name}"`);
    const inputDigest = digest(input);
    const id = callId ?? `call_${this.nextIndex()}`;
    const replay = this.parts.replay;
    if (replay) return this.replayTool(replay, name, id, inputDigest);
    const earlier = this.steps.find((s): s is ToolStep => s.kind === "tool" && s.callId === id);
    if (earlier && earlier.name === name && earlier.inputDigest === inputDigest) {
      if (earlier.outcome === "ok") return JSON.parse(earlier.result ?? "null");
      if (earlier.outcome === "error") throw recordedError(earlier);
      if (!target.definition.idempotent) throw new WardenError("TOOL_ERROR", unknownOutcome(name));
    }
    const step: ToolStep = earlier ?? {
      kind: "tool",
      index: this.nextIndex(),
      callId: id,
      name,
      inputDigest,
      outcome: "started",
    };
    await this.putStep(step);
    try {
      const value = await target.call(input, { session: this.id, signal });
      await this.putStep({ ...step, outcome: "ok", result: JSON.stringify(value ?? null) });
      this.parts.progress?.({ session: this.id, kind: "tool", detail: `${name} answered` });
      return value;
    } catch (error) {
      const failure =
        error instanceof WardenError
          ? new WardenError("TOOL_ERROR", `${error.code}: ${error.message}`)
          : new WardenError("TOOL_ERROR", `tool "${name}" failed`);
      await this.putStep({ ...step, outcome: "error", result: JSON.stringify({ message: failure.message }) });
      throw failure;
    }
  }

  private replayTool(replay: Replaying, name: string, id: string, inputDigest: string): unknown {
    const recorded = replay.steps.find((s): s is ToolStep => s.kind === "tool" && s.callId === id);
    const index = replay.report.filter((r) => r.kind === "tool").length;
    const matched = recorded !== undefined && recorded.name === name && recorded.inputDigest === inputDigest;
    replay.report.push({
      kind: "tool",
      index,
      matched,
      ...(matched
        ? {}
        : {
            detail: recorded ? "the call differs from the journaled one" : `the journal has no call "${id}"`,
          }),
    });
    if (!recorded || recorded.outcome === "started" || recorded.outcome === "unknown")
      throw new WardenError("TOOL_ERROR", unknownOutcome(name));
    if (recorded.outcome === "error") throw recordedError(recorded);
    return JSON.parse(recorded.result ?? "null");
  }

  /** A held tool's pinned definition, as its handle's describe() returns it. */
  toolDefinition(name: string): {
    name: string;
    description: string;
    inputSchema: unknown;
    idempotent: boolean;
  } {
    const target = this.parts.tools.get(name);
    if (!target) throw new WardenError("CAPABILITY_DENIED", `this agent holds no tool "${name}"`);
    const { description, inputSchema, idempotent } = target.definition;
    return { name, description, inputSchema, idempotent: idempotent === true };
  }

  /** Marks a started tool call's outcome unknown (the kernel died while it ran). */
  async markUnknown(step: ToolStep): Promise<void> {
    await this.putStep({ ...step, outcome: "unknown" });
  }

  journalSteps(): Step[] {
    return this.steps.map((s) => structuredClone(s));
  }
}

export function unknownOutcome(name: string): string {
  return `the outcome of this call of "${name}" is unknown (the kernel stopped while it ran); it was not run again`;
}

function recordedError(step: ToolStep): WardenError {
  const { message } = JSON.parse(step.result ?? "{}") as { message?: string };
  return new WardenError("TOOL_ERROR", message ?? `tool "${step.name}" failed`);
}
