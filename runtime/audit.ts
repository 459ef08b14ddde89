// Audit records of every kernel decision, and the sinks that keep them (memory or JSON lines on disk).
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { redact } from "./audit/redact.ts";
import { clip, TEXT_BOUNDS } from "./text-bounds.ts";

export type Decision = "allow" | "deny" | "error";

export interface AuditRecord {
  seq: number;
  time: string;
  /** "result": what a call reported once it finished (a model call's tokens and cost), after its "call" record. */
  event:
    | "call"
    | "result"
    | "load"
    | "limit"
    | "grant"
    | "revoke"
    | "policy"
    | "model"
    | "compaction"
    | "session";
  tool: string;
  sandbox: string;
  /** The client session the call was made for (an MCP client and session), when the host knows one. */
  session?: string;
  handle?: string;
  kind?: string;
  op?: string;
  /** Arguments in summary: never bodies, file contents or header values. */
  summary?: string;
  decision: Decision;
  code?: string;
  /** Why: the rule or check that decided. */
  reason?: string;
  /** Facts a call reported when it finished (tokens, cost, duration): never content. */
  detail?: Readonly<Record<string, string | number>>;
}

export type AuditInput = Omit<AuditRecord, "seq" | "time">;

/** Fields that name something (a tool, handle, operation, client session): short text, clipped as names. */
const NAME_FIELDS = ["tool", "sandbox", "session", "handle", "kind", "op"] as const;

export interface AuditSink {
  /** Keeps one record; it is as durable as the sink gets when this returns. */
  write(record: AuditRecord): void;
  /**
   * Keeps several records in one commit (one fsync), all or none, durable when it returns. A sink that has
   * it takes part in group commit: records of concurrent calls wait for one shared commit.
   */
  writeBatch?(records: AuditRecord[]): void;
  close?(): void;
}

interface Waiter {
  record: AuditRecord;
  resolve: (record: AuditRecord) => void;
  reject: (error: unknown) => void;
}

export class AuditLog {
  private seq = 0;
  private readonly sinks: AuditSink[];
  private readonly batching: Array<(records: AuditRecord[]) => void> = [];
  private readonly immediate: AuditSink[] = [];
  /** Records taken by `commit` and not yet in the batching sinks, in `seq` order. */
  private staged: Waiter[] = [];
  private flushScheduled = false;

  constructor(sinks: AuditSink[] = []) {
    this.sinks = sinks;
    for (const sink of sinks) {
      if (sink.writeBatch) this.batching.push(sink.writeBatch.bind(sink));
      else this.immediate.push(sink);
    }
  }

  /** Records synchronously: durable in every sink when it returns (with whatever `commit` had staged). */
  record(input: AuditInput): AuditRecord {
    const record = this.make(input);
    for (const sink of this.immediate) sink.write(record);
    if (this.batching.length > 0) {
      this.staged.push({ record, resolve: () => {}, reject: () => {} });
      this.flush(true);
    }
    return record;
  }

  /**
   * Group commit: resolves once the record is durable in every sink, sharing one commit with the records
   * of every other call that committed in the same turn of the event loop. Rejects (the caller must not
   * go on as if recorded) when the commit fails. Without a batching sink it is durable at once.
   */
  commit(input: AuditInput): Promise<AuditRecord> {
    const record = this.make(input);
    for (const sink of this.immediate) sink.write(record);
    if (this.batching.length === 0) return Promise.resolve(record);
    return new Promise((resolve, reject) => {
      this.staged.push({ record, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate runs after the poll phase, so every I/O callback ready in this turn (other calls'
        // handle requests, replies of other sandboxes) has staged its record by then and shares the commit.
        setImmediate(() => this.flush(false));
      }
    });
  }

  close(): void {
    this.flush(false);
    for (const sink of this.sinks) sink.close?.();
  }

  private make(input: AuditInput): AuditRecord {
    const record: AuditRecord = { seq: ++this.seq, time: new Date().toISOString(), ...input };
    // Every text field is bounded before anything reads it, so a record has a size bound whatever a guest
    // sent (a cut field says so with a marker), and redaction costs what a record of that size costs.
    for (const field of NAME_FIELDS) {
      const value = record[field];
      if (value !== undefined) record[field] = clip(value, TEXT_BOUNDS.name);
    }
    if (record.code !== undefined) record.code = clip(record.code, TEXT_BOUNDS.code);
    // Redacted once, here, so no sink can keep a URL's credentials or query string, whatever a kind wrote.
    if (record.summary !== undefined) record.summary = redact(clip(record.summary, TEXT_BOUNDS.summary));
    if (record.reason !== undefined) record.reason = redact(clip(record.reason, TEXT_BOUNDS.message));
    return record;
  }

  /** Commits every staged record in each batching sink; `rethrow` for `record`, whose caller wants the error. */
  private flush(rethrow: boolean): void {
    this.flushScheduled = false;
    const batch = this.staged;
    if (batch.length === 0) return;
    this.staged = [];
    const records = batch.map((waiter) => waiter.record);
    try {
      for (const writeBatch of this.batching) writeBatch(records);
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
      if (rethrow) throw error;
      return;
    }
    for (const waiter of batch) waiter.resolve(waiter.record);
  }
}

/** Keeps the newest records in memory (at least `max`, at most a quarter more, so a long-lived runtime does not grow without end). */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  private readonly max: number;

  constructor(max = 10_000) {
    this.max = max;
  }

  write(record: AuditRecord): void {
    this.records.push(record);
    // Trimmed in batches: dropping one record per write moved the whole array every time once it was full.
    if (this.records.length > this.max + (this.max >> 2))
      this.records.splice(0, this.records.length - this.max);
  }
}

/** Appends one JSON line per record. Synchronous, so a record is written before the call it describes returns. */
export class JsonlAuditSink implements AuditSink {
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
    mkdirSync(dirname(file), { recursive: true });
  }

  write(record: AuditRecord): void {
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }
}
