// The one session-store interface (sessions, their journal of messages, steps and compactions) and its memory
// implementation. Nothing outside a store may assume how it keeps them: SQLite here, a distributed engine next.
import { randomBytes } from "node:crypto";
import type { Completion, Message } from "../capabilities/model/conversation.ts";
import { WardenError } from "../errors.ts";
import { ownerGone, thisProcess } from "./owner.ts";

export const SESSION_STATUSES = ["running", "waiting", "done", "failed", "cancelled", "interrupted"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** What a session has spent so far. */
export interface Spent {
  turns: number;
  tokens: number;
  cost: number;
}

export interface Session {
  /** Random and URL-safe. */
  id: string;
  agent: string;
  parent: string | null;
  /** The root of its tree (itself for a root session). */
  root: string;
  status: SessionStatus;
  task: string;
  answer: string | null;
  /** The error code a failed session ended with. */
  error: string | null;
  /** The model grant spec the session runs on (resume may move it to another). */
  model: string;
  created: number;
  updated: number;
  spent: Spent;
}

export interface NewSession {
  agent: string;
  parent?: string | null;
  task: string;
  model: string;
  /** Given by the caller only when it must know the id first (tests); otherwise random. */
  id?: string;
}

/** A journaled message: its place in the session (from 1) and the message, stored once. */
export interface Entry {
  seq: number;
  message: Message;
}

/** One model call: what it saw (a digest of the request, and the newest seq in it) and what it returned. */
export interface ModelStep {
  kind: "model";
  index: number;
  /** The newest message the request held. */
  seenTo: number;
  /** sha256 of the request as sent (messages after compaction, tools): what replay matches. */
  requestDigest: string;
  completion: Completion;
  /** Where the assistant message it returned was journaled (0 for a summary, which is not a message). */
  seq: number;
  /** A call that summarised the conversation for a compaction, not a turn. */
  purpose?: "summary";
}

export type ToolOutcome = "started" | "ok" | "error" | "unknown";

/** One tool call: written `started` before it runs, and again with its outcome. */
export interface ToolStep {
  kind: "tool";
  index: number;
  callId: string;
  name: string;
  /** sha256 of the input's JSON. */
  inputDigest: string;
  outcome: ToolOutcome;
  /** The result's JSON (ok), or the error's code and message (error). */
  result?: string;
}

export type Step = ModelStep | ToolStep;

/**
 * A compaction: which journaled messages the conversation no longer shows as they are. `drop-tool-results`
 * replaces tool results by a marker; `summarise` replaces a run of messages by one summary message.
 */
export interface Compaction {
  index: number;
  strategy: "drop-tool-results" | "summarise";
  /** The newest seq when it was made. */
  at: number;
  replaced: number[];
  /** The summary (summarise only). */
  summary?: string;
  tokensBefore: number;
  tokensAfter: number;
}

export type SessionPatch = Partial<Pick<Session, "status" | "answer" | "error" | "model" | "spent">>;

/**
 * Every operation resolves only once what it wrote is durable: a caller may acknowledge or act on it then.
 * Reads return copies; nothing a caller does to them changes the store.
 *
 * A store records who runs a session: the process that created it, or that last set its status to
 * `running` (resume). Every read of a `running` session whose owner is gone (its kernel died) returns it as
 * `interrupted`, so nothing shows a dead session as running; resume makes it `running` again.
 */
export interface SessionStore {
  create(session: NewSession): Promise<Session>;
  get(id: string): Promise<Session | undefined>;
  list(): Promise<Session[]>;
  children(parent: string): Promise<Session[]>;
  update(id: string, patch: SessionPatch): Promise<Session>;
  /** Journals one message; resolves with its seq once it is durable. */
  append(id: string, message: Message): Promise<number>;
  /** Messages with from <= seq <= to (default: all), in order. */
  messages(id: string, range?: { from?: number; to?: number }): Promise<Entry[]>;
  /** Writes a step (a new index, or the same index again with a tool's outcome). */
  putStep(id: string, step: Step): Promise<void>;
  steps(id: string): Promise<Step[]>;
  addCompaction(id: string, compaction: Compaction): Promise<void>;
  compactions(id: string): Promise<Compaction[]>;
  close(): void;
}

/** A random, URL-safe session id. */
export function newSessionId(): string {
  return `s_${randomBytes(12).toString("base64url")}`;
}

/** What every store refuses the same way: a session that does not exist. */
export function unknownSession(id: string): WardenError {
  return new WardenError("NOT_FOUND", `no session ${JSON.stringify(id.slice(0, 64))}`);
}

export function freshSession(input: NewSession, parent: Session | undefined, now = Date.now()): Session {
  const id = input.id ?? newSessionId();
  return {
    id,
    agent: input.agent,
    parent: input.parent ?? null,
    root: parent ? parent.root : id,
    status: "running",
    task: input.task,
    answer: null,
    error: null,
    model: input.model,
    created: now,
    updated: now,
    spent: { turns: 0, tokens: 0, cost: 0 },
  };
}

/** A session as reads return it: `interrupted` when it is `running` but the process that owns it is gone. */
export function asRead(session: Session, owner: string | null): Session {
  return session.status === "running" && ownerGone(owner) ? { ...session, status: "interrupted" } : session;
}

/** The owner a write leaves: this process when it sets the session running, else the owner it had. */
export function ownerAfter(patch: SessionPatch, owner: string | null): string | null {
  return patch.status === "running" ? thisProcess() : owner;
}

const copy = <T>(value: T): T => structuredClone(value);

interface MemorySession {
  session: Session;
  owner: string | null;
  messages: Message[];
  steps: Map<number, Step>;
  compactions: Compaction[];
}

const read = (found: MemorySession): Session => copy(asRead(found.session, found.owner));

/** Sessions in memory, for runtimes without a state directory (and the reference the conformance table checks). */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, MemorySession>();

  private entry(id: string): MemorySession {
    const found = this.sessions.get(id);
    if (!found) throw unknownSession(id);
    return found;
  }

  async create(input: NewSession): Promise<Session> {
    const parent = input.parent ? this.entry(input.parent).session : undefined;
    const session = freshSession(input, parent);
    if (this.sessions.has(session.id))
      throw new WardenError("ALREADY_EXISTS", `session ${session.id} exists`);
    this.sessions.set(session.id, {
      session,
      owner: thisProcess(),
      messages: [],
      steps: new Map(),
      compactions: [],
    });
    return copy(session);
  }

  async get(id: string): Promise<Session | undefined> {
    const found = this.sessions.get(id);
    return found ? read(found) : undefined;
  }

  async list(): Promise<Session[]> {
    return [...this.sessions.values()].map(read);
  }

  async children(parent: string): Promise<Session[]> {
    return [...this.sessions.values()].filter((s) => s.session.parent === parent).map(read);
  }

  async update(id: string, patch: SessionPatch): Promise<Session> {
    const found = this.entry(id);
    found.session = { ...found.session, ...copy(patch), updated: Date.now() };
    found.owner = ownerAfter(patch, found.owner);
    return read(found);
  }

  async append(id: string, message: Message): Promise<number> {
    const found = this.entry(id);
    found.messages.push(copy(message));
    return found.messages.length;
  }

  async messages(id: string, range: { from?: number; to?: number } = {}): Promise<Entry[]> {
    const found = this.entry(id);
    const from = Math.max(1, range.from ?? 1);
    const to = Math.min(found.messages.length, range.to ?? found.messages.length);
    const out: Entry[] = [];
    for (let seq = from; seq <= to; seq++) out.push({ seq, message: copy(found.messages[seq - 1]!) });
    return out;
  }

  async putStep(id: string, step: Step): Promise<void> {
    this.entry(id).steps.set(step.index, copy(step));
  }

  async steps(id: string): Promise<Step[]> {
    return [...this.entry(id).steps.values()].sort((a, b) => a.index - b.index).map(copy);
  }

  async addCompaction(id: string, compaction: Compaction): Promise<void> {
    this.entry(id).compactions.push(copy(compaction));
  }

  async compactions(id: string): Promise<Compaction[]> {
    return this.entry(id).compactions.map(copy);
  }

  close(): void {}
}
