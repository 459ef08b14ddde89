// The in-memory audit sink: bounded, newest records kept.
import { expect, test } from "vitest";
import { type AuditRecord, MemoryAuditSink } from "../../runtime/audit.ts";

const record = (seq: number): AuditRecord => ({
  seq,
  time: "",
  event: "call",
  tool: "t",
  sandbox: "s",
  decision: "allow",
});

test("keeps at least max and at most a quarter more of the newest records", () => {
  const sink = new MemoryAuditSink(8);
  for (let seq = 1; seq <= 1000; seq++) {
    sink.write(record(seq));
    expect(sink.records.length).toBeLessThanOrEqual(10);
    expect(sink.records.length).toBeGreaterThanOrEqual(Math.min(seq, 8));
    expect(sink.records.at(-1)?.seq).toBe(seq);
  }
  expect(sink.records.map((r) => r.seq)).toEqual(sink.records.map((_, i, all) => all[0]!.seq + i));
});
