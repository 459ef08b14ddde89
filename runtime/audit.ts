// Audit records of every kernel decision, and the sinks that keep them (memory or JSON lines on disk).
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { redact } from "./audit/redact.ts";

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
    // Redacted once, here, so no sink can keep a URL's credentials or query string, whatever a kind wrote.
    if (record.summary !== undefined) record.summary = redact(record.summary);
    if (record.reason !== undefined) record.reason = redact(record.reason);
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
