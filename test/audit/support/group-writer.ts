// A child process for the group-commit crash test: commits records in concurrent batches through an AuditLog
// and prints each record's tag once its commit resolved (acknowledged), until killed.
import { join } from "node:path";
import { SqliteAuditSink } from "../../../runtime/audit/sqlite-sink.ts";
import { AuditLog } from "../../../runtime/audit.ts";

const dir = process.argv[2];
const writer = process.argv[3] ?? "w";
if (!dir) throw new Error("usage: group-writer.ts DIR [NAME]");
const audit = new AuditLog([new SqliteAuditSink(join(dir, "audit.sqlite"))]);
process.stdout.write("ready\n");
for (let round = 1; ; round++) {
  const tags = Array.from({ length: 1 + (round % 8) }, (_, i) => `${writer}-${round}-${i}`);
  const acked = await Promise.all(
    tags.map((tag) =>
      audit
        .commit({ event: "call", tool: writer, sandbox: "sb1", op: "get", summary: tag, decision: "allow" })
        .then(() => tag),
    ),
  );
  // Written only after the commit resolved: everything printed here must survive the kill.
  process.stdout.write(`${acked.join("\n")}\n`);
}
