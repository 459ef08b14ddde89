// The kernel-owned conversation of one session: validated, durable appends; the view a model is sent (the journal
// with its compactions applied); its size in tokens; and the context budget with the agent's overflow choice.
import { z } from "zod";
import {
  type Message,
  messageSchema,
  type ToolCall,
  type Usage,
} from "../capabilities/model/conversation.ts";
import { WardenError } from "../errors.ts";
import type { Compaction, Entry, SessionStore } from "./store.ts";

export const OVERFLOW_CHOICES = ["refuse", "drop-tool-results", "summarise"] as const;
export type Overflow = (typeof OVERFLOW_CHOICES)[number];

/** What a dropped tool result becomes: short, and says why, so the model knows the result existed. */
export const DROPPED_RESULT = "[this tool result was removed to fit the context budget]";
export const SUMMARY_PREFIX = "Summary of the earlier conversation:\n";

/** About four bytes of JSON a token: the estimate the model kind reserves by, used until a provider counts. */
export function estimateTokens(messages: readonly Message[]): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify(messages)) / 4);
}

/** Summarises messages through the agent's own model; returns the summary's text. */
export type Summariser = (messages: Message[]) => Promise<string>;

export interface ConversationOptions {
  /** The most tokens the view may hold before the next turn; unset: no budget. */
  contextTokens?: number;
  overflow?: Overflow;
  summarise?: Summariser;
}

/** One message of the view, with the journaled seqs it stands for (several for a summary). */
export interface ViewItem {
  seqs: number[];
  message: Message;
}

export class Conversation {
  readonly session: string;
  private readonly store: SessionStore;
  private readonly options: ConversationOptions;
  private entries: Entry[];
  private compactionList: Compaction[];
  /** What the provider counted for the newest call: its input and output, and the seq it answered with. */
  private counted: { seq: number; usage: Usage } | undefined;

  private constructor(
    store: SessionStore,
    session: string,
    entries: Entry[],
    compactions: Compaction[],
    options: ConversationOptions,
  ) {
    this.store = store;
    this.session = session;
    this.entries = entries;
    this.compactionList = compactions;
    this.options = options;
  }

  /** The conversation of a session as journaled. */
  static async open(
    store: SessionStore,
    session: string,
    options: ConversationOptions = {},
  ): Promise<Conversation> {
    return new Conversation(
      store,
      session,
      await store.messages(session),
      await store.compactions(session),
      options,
    );
  }

  /**
   * Validates and journals a message; resolves once it is durable. A system message only first; a tool
   * message only for a call of the newest assistant message that has no result yet; no user message while
   * one does (providers refuse both).
   */
  async append(raw: unknown): Promise<number> {
    const parsed = messageSchema.safeParse(raw);
    if (!parsed.success)
      throw new WardenError("INVALID_ARGUMENT", `not a message: ${z.prettifyError(parsed.error)}`);
    const message = parsed.data;
    const pending = this.pending();
    if (message.role === "system" && this.entries.length > 0)
      throw new WardenError("INVALID_ARGUMENT", "a system message can only open a conversation");
    if (message.role === "tool" && !pending.some((c) => c.id === message.toolCallId))
      throw new WardenError(
        "INVALID_ARGUMENT",
        `no tool call "${message.toolCallId}" of the newest assistant message is waiting for a result`,
      );
    if ((message.role === "user" || message.role === "assistant") && pending.length > 0)
      throw new WardenError(
        "INVALID_ARGUMENT",
        `tool calls ${pending.map((c) => `"${c.id}"`).join(", ")} are waiting for their results first`,
      );
    const seq = await this.store.append(this.session, message);
    this.entries.push({ seq, message });
    return seq;
  }

  /** Journals an assistant message with the usage the provider reported for the call that produced it. */
  async appendCompletion(message: Message, usage: Usage): Promise<number> {
    const seq = await this.append(message);
    this.counted = { seq, usage };
    return seq;
  }

  /** Every journaled message, as written (no compaction applied). */
  journal(): Entry[] {
    return this.entries.map((e) => ({ seq: e.seq, message: structuredClone(e.message) }));
  }

  get lastSeq(): number {
    return this.entries.at(-1)?.seq ?? 0;
  }

  compactions(): Compaction[] {
    return this.compactionList.map((c) => structuredClone(c));
  }

  /** What a model is sent: the journal with its compactions applied. */
  view(): ViewItem[] {
    const latest = new Map<number, Compaction>();
    for (const c of this.compactionList) for (const seq of c.replaced) latest.set(seq, c);
    const out: ViewItem[] = [];
    for (const { seq, message } of this.entries) {
      const c = latest.get(seq);
      if (!c) out.push({ seqs: [seq], message });
      else if (c.strategy === "drop-tool-results" && message.role === "tool")
        out.push({ seqs: [seq], message: { ...message, content: DROPPED_RESULT } });
      else if (c.strategy === "summarise" && seq === Math.min(...c.replaced))
        out.push({
          seqs: [...c.replaced],
          message: { role: "user", content: `${SUMMARY_PREFIX}${c.summary ?? ""}` },
        });
    }
    return out;
  }

  messages(): Message[] {
    return this.view().map((item) => item.message);
  }

  /** Tool calls of the newest assistant message that have no result yet. */
  pending(): ToolCall[] {
    let i = this.entries.length - 1;
    const answered = new Set<string>();
    for (; i >= 0; i--) {
      const m = this.entries[i]!.message;
      if (m.role === "tool") answered.add(m.toolCallId);
      else break;
    }
    const newest = this.entries[i]?.message;
    if (newest?.role !== "assistant") return [];
    return (newest.toolCalls ?? []).filter((c) => !answered.has(c.id));
  }

  /**
   * The view's size in tokens: what the provider counted for the newest call when nothing was compacted since,
   * plus an estimate of what came after; otherwise an estimate of the whole view.
   */
  tokens(): number {
    const view = this.messages();
    const counted = this.counted;
    const compactedSince = this.compactionList.some((c) => counted !== undefined && c.at >= counted.seq);
    if (!counted || compactedSince) return estimateTokens(view);
    const after = this.entries.filter((e) => e.seq > counted.seq).map((e) => e.message);
    return (
      counted.usage.inputTokens + counted.usage.outputTokens + (after.length ? estimateTokens(after) : 0)
    );
  }

  /**
   * Makes the view fit the context budget with `reserve` tokens to spare, by the agent's overflow choice;
   * every compaction is journaled before the view is used. The system message is never cut.
   */
  async fit(reserve = 0): Promise<Compaction | undefined> {
    const budget = this.options.contextTokens;
    if (budget === undefined) return undefined;
    const before = this.tokens();
    if (before + reserve <= budget) return undefined;
    const overflow = this.options.overflow ?? "refuse";
    const over = () =>
      new WardenError(
        "LIMIT_EXCEEDED",
        `the conversation needs about ${this.tokens() + reserve} tokens, over the agent's context budget (limits.contextTokens ${budget})${overflow === "refuse" ? "; its context.overflow is refuse" : `, even after ${overflow}`}`,
      );
    if (overflow === "refuse") throw over();
    const compaction =
      overflow === "drop-tool-results"
        ? this.dropToolResults(budget - reserve, before)
        : await this.summarise(before);
    if (!compaction) throw over();
    await this.store.addCompaction(this.session, compaction);
    this.compactionList.push(compaction);
    compaction.tokensAfter = this.tokens();
    if (compaction.tokensAfter + reserve > budget) throw over();
    return compaction;
  }

  /** The oldest tool results, one by one, until the view fits; undefined if there are none to drop. */
  private dropToolResults(target: number, before: number): Compaction | undefined {
    const bytes = (text: string) => Buffer.byteLength(JSON.stringify(text));
    // From the count that found the overflow (the provider's, when it counted), down by each result's estimated
    // size as it is dropped: linear in the conversation's size.
    let estimate = before;
    const replaced: number[] = [];
    for (const item of this.view()) {
      if (estimate <= target) break;
      const m = item.message;
      if (m.role !== "tool" || m.content === DROPPED_RESULT) continue;
      replaced.push(item.seqs[0]!);
      estimate -= Math.floor((bytes(m.content) - bytes(DROPPED_RESULT)) / 4);
    }
    if (replaced.length === 0) return undefined;
    return {
      index: this.compactionList.length,
      strategy: "drop-tool-results",
      at: this.lastSeq,
      replaced,
      tokensBefore: before,
      tokensAfter: before,
    };
  }

  /**
   * Everything between the task and the newest assistant message becomes one summary, made by the agent's
   * model: the system message and the task stay as they are, and no tool result loses its call.
   */
  private async summarise(before: number): Promise<Compaction | undefined> {
    const summarise = this.options.summarise;
    if (!summarise) return undefined;
    const view = this.view();
    const firstUser = view.findIndex((item) => item.message.role === "user");
    let newestAssistant = -1;
    for (let i = view.length - 1; i >= 0; i--)
      if (view[i]!.message.role === "assistant") {
        newestAssistant = i;
        break;
      }
    const range = view.slice(firstUser + 1, newestAssistant);
    if (firstUser < 0 || range.length === 0) return undefined;
    const summary = await summarise(range.map((item) => item.message));
    return {
      index: this.compactionList.length,
      strategy: "summarise",
      at: this.lastSeq,
      replaced: range.flatMap((item) => item.seqs),
      summary,
      tokensBefore: before,
      tokensAfter: before,
    };
  }
}
