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
  write(record: AuditRecord): void;
  close?(): void;
}

export class AuditLog {
  private seq = 0;
  private readonly sinks: AuditSink[];

  constructor(sinks: AuditSink[] = []) {
    this.sinks = sinks;
  }

  record(input: AuditInput): AuditRecord {
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
    for (const sink of this.sinks) sink.write(record);
    return record;
  }

  close(): void {
    for (const sink of this.sinks) sink.close?.();
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
