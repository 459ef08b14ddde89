// A child process for the crash tests: appends audit records to <dir>/audit.sqlite in a loop until killed.
import { join } from "node:path";
import { SqliteAuditSink } from "../../../runtime/audit/sqlite-sink.ts";

const dir = process.argv[2];
const writer = process.argv[3] ?? "w";
if (!dir) throw new Error("usage: writer.ts DIR [NAME]");
const sink = new SqliteAuditSink(join(dir, "audit.sqlite"));
process.stdout.write("ready\n");
for (let i = 1; ; i++) {
  sink.write({
    seq: i,
    time: new Date().toISOString(),
    event: "call",
    tool: writer,
    sandbox: "sb1",
    handle: "files",
    kind: "fs",
    op: "writeText",
    summary: `writeText note-${i}.txt (${i} bytes)`,
    decision: i % 7 === 0 ? "deny" : "allow",
  });
}
