// `warden audit tail` and `warden audit query`: audit records as JSON lines, newest last.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AUDIT_DB } from "../audit/chain.ts";
import { type AuditQuery, parseSince, queryRecords } from "../audit/query.ts";
import { readingAuditFile } from "../audit/unreadable.ts";
import { openExistingAuditDb } from "../audit/verify.ts";
import type { Decision } from "../audit.ts";
import { WardenError } from "../errors.ts";
import type { CliIo } from "./commands.ts";

export const AUDIT_TAIL_HELP = `warden audit tail: print the newest audit records, one JSON object per line.

Usage:
  warden audit tail [-n N] [--state DIR]

Options:
  -n N          how many records (default 20)
  --state DIR   the state directory (default .warden)

Example:
  warden audit tail -n 5
`;

export const AUDIT_QUERY_HELP = `warden audit query: print the audit records that match every filter given, as JSON lines.

Usage:
  warden audit query [--tool NAME] [--decision allow|deny|error] [--event KIND] [--session ID]
                     [--since TIME] [-n N] [--state DIR]

Options:
  --tool NAME       records about this tool (its defineTool name)
  --decision D      allow, deny or error
  --event KIND      call, load, limit, grant, revoke or policy
  --session ID      records made for this client session
  --since TIME      an ISO date or time (2026-11-21, 2026-11-21T10:00:00Z) or an age (30s, 15m, 2h, 7d)
  -n N              at most the newest N matches (default 1000)
  --state DIR       the state directory (default .warden)

Example:
  warden audit query --tool read-file --decision deny --since 1h
`;

const DECISIONS: readonly Decision[] = ["allow", "deny", "error"];
const EVENTS = ["call", "result", "load", "limit", "grant", "revoke", "policy"];

function count(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new WardenError("USAGE", `-n takes a whole number of records, got "${raw}"`);
  return Number(raw);
}

function print(io: CliIo, state: string, query: AuditQuery): void {
  const dir = resolve(state);
  const db = openExistingAuditDb(dir);
  try {
    const records = readingAuditFile(join(dir, AUDIT_DB), () => queryRecords(db, query));
    for (const record of records) io.stdout(`${JSON.stringify(record)}\n`);
  } finally {
    db.close();
  }
}

function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0) {
    throw new WardenError("USAGE", `warden audit ${command} takes no arguments, got "${positionals[0]}"`);
  }
}

export async function auditTail(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      n: { type: "string", short: "n", default: "20" },
      state: { type: "string", default: ".warden" },
    },
  });
  noPositionals("tail", positionals);
  print(io, values.state, { limit: count(values.n) });
}

export async function auditQuery(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tool: { type: "string" },
      decision: { type: "string" },
      event: { type: "string" },
      session: { type: "string" },
      since: { type: "string" },
      n: { type: "string", short: "n", default: "1000" },
      state: { type: "string", default: ".warden" },
    },
  });
  noPositionals("query", positionals);
  if (values.decision !== undefined && !(DECISIONS as readonly string[]).includes(values.decision)) {
    throw new WardenError("USAGE", `--decision takes ${DECISIONS.join(", ")}, got "${values.decision}"`);
  }
  if (values.event !== undefined && !EVENTS.includes(values.event)) {
    throw new WardenError("USAGE", `--event takes ${EVENTS.join(", ")}, got "${values.event}"`);
  }
  print(io, values.state, {
    tool: values.tool,
    decision: values.decision,
    event: values.event,
    session: values.session,
    since: values.since === undefined ? undefined : parseSince(values.since),
    limit: count(values.n),
  });
}
