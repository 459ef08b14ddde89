// `warden audit verify`: checks the whole hash chain and names the first record edited, deleted or moved.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AUDIT_DB } from "../audit/chain.ts";
import { readingAuditFile } from "../audit/unreadable.ts";
import { openExistingAuditDb, verifyChain } from "../audit/verify.ts";
import { WardenError } from "../errors.ts";
import type { CliIo } from "./commands.ts";

export const AUDIT_VERIFY_HELP = `warden audit verify: check the audit log's hash chain from the first record to the last.

Usage:
  warden audit verify [--state DIR]

Prints {"ok":true,"records":N,"head":"HASH"} when every record is intact. Otherwise fails with AUDIT_BROKEN
and names the first record that was edited, deleted or moved. Deleting the newest records leaves a shorter
chain that still verifies: keep the printed head somewhere else and compare.

Options:
  --state DIR   the state directory whose audit.sqlite to check (default .warden)

Example:
  warden audit verify --state .warden
`;

export async function auditVerify(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { state: { type: "string", default: ".warden" } },
  });
  if (positionals.length > 0) {
    throw new WardenError("USAGE", `warden audit verify takes no arguments, got "${positionals[0]}"`);
  }
  const state = resolve(values.state);
  const db = openExistingAuditDb(state);
  try {
    // A file damaged past its first page is found only as the walk reaches it.
    const result = readingAuditFile(join(state, AUDIT_DB), () => verifyChain(db));
    if (!result.ok) {
      throw new WardenError("AUDIT_BROKEN", `${result.message} (${result.records} records before it verify)`);
    }
    io.stdout(`${JSON.stringify(result)}\n`);
  } finally {
    db.close();
  }
}
