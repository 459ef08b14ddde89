// Redaction: whatever a kind writes into a summary or reason, no credential, query or token reaches a sink.
import { describe, expect, test } from "vitest";
import { redact } from "../../runtime/audit/redact.ts";
import { AuditLog, MemoryAuditSink } from "../../runtime/audit.ts";

describe("redact", () => {
  const cases: [string, string][] = [
    ["GET https://api.example.com/v1/items?token=s3cret", "GET https://api.example.com/v1/items?[redacted]"],
    ["https://user:pw@host.example/p#frag", "https://[redacted]@host.example/p#[redacted]"],
    ["https://api.example.com", "https://api.example.com"],
    [
      "net:GET,POST:https://a.example,https://b.example:8443",
      "net:GET,POST:https://a.example,https://b.example:8443",
    ],
    [
      "redirected to http://10.0.0.1/x?sig=abc, refused",
      "redirected to http://10.0.0.1/x?[redacted] refused",
    ],
    ["Authorization: Bearer abc.def.ghi", "Authorization: [redacted]"],
    ["header x-api-key=k-123; next", "header x-api-key=[redacted]; next"],
    ["readText notes/a.txt", "readText notes/a.txt"],
  ];
  for (const [input, output] of cases) {
    test(JSON.stringify(input), () => expect(redact(input)).toBe(output));
  }
});

test("AuditLog redacts summary and reason before any sink sees them", () => {
  const sink = new MemoryAuditSink();
  const log = new AuditLog([sink]);
  log.record({
    event: "call",
    tool: "t",
    sandbox: "sb1",
    op: "fetch",
    summary: "GET https://u:p@api.example.com/a?key=1",
    decision: "deny",
    reason: "https://evil.example/?token=2 is not one of this handle's origins",
  });
  expect(sink.records[0]).toMatchObject({
    summary: "GET https://[redacted]@api.example.com/a?[redacted]",
    reason: "https://evil.example/?[redacted] is not one of this handle's origins",
  });
});

// Text a guest controls reaches redaction (a key in an error message, a path in a summary): its cost must
// be linear. Each input took seconds or minutes with the quadratic scheme match; the bound states a hang.
describe("redaction is linear in its input", () => {
  const n = 60_000;
  const inputs: [string, string][] = [
    ["dotted words", "a.".repeat(n / 2)],
    ["dashed words", "a-".repeat(n / 2)],
    ["a URL and a list of words", `h://x,${"a.".repeat(n / 2)}`],
    ["schemes without slashes", "a:/".repeat(n / 3)],
    ["credential words", "token ".repeat(n / 6)],
  ];
  for (const [name, text] of inputs) {
    test(name, () => {
      const started = performance.now();
      redact(text);
      expect(performance.now() - started).toBeLessThan(2000);
    });
  }

  test("a scheme glued to longer text still starts a URL", () => {
    expect(redact(`${"x".repeat(40)}https://u:p@evil.example/?token=1`)).toBe(
      `${"x".repeat(40)}https://[redacted]@evil.example/?[redacted]`,
    );
  });
});

test("an audit record has a size bound, and a cut field says so", () => {
  const sink = new MemoryAuditSink();
  const log = new AuditLog([sink]);
  const huge = "k".repeat(1_000_000);
  log.record({
    event: "call",
    tool: huge,
    sandbox: "sb1",
    handle: huge,
    op: huge,
    summary: huge,
    decision: "deny",
    code: huge,
    reason: huge,
  });
  const written = JSON.stringify(sink.records[0]);
  expect(written.length).toBeLessThan(16_384);
  expect(sink.records[0]?.reason).toMatch(/…\[cut \d+ chars\]$/);
  expect(sink.records[0]?.summary).toMatch(/…\[cut \d+ chars\]$/);
  expect(sink.records[0]?.op).toMatch(/…\[cut \d+ chars\]$/);
});
