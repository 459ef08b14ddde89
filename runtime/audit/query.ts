// Reading the audit chain: the newest records, or those matching a filter, as parsed JSON objects.
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { WardenError } from "../errors.ts";

export interface AuditQuery {
  tool?: string;
  decision?: string;
  event?: string;
  session?: string;
  /** ISO time; records at or after it. */
  since?: string;
  /** The newest `limit` records (in chain order). */
  limit: number;
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since` as an ISO time: a date or time ("2026-11-21", "2026-11-21T10:00:00Z") or an age ("15m", "2h", "7d"). */
export function parseSince(text: string, now = Date.now()): string {
  const age = DURATION.exec(text);
  if (age) return new Date(now - Number(age[1]) * UNIT_MS[age[2]!]!).toISOString();
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new WardenError(
      "USAGE",
      `--since takes an ISO date or time (2026-11-21, 2026-11-21T10:00:00Z) or an age (30s, 15m, 2h, 7d), got "${text}"`,
    );
  }
  return new Date(time).toISOString();
}

/** Records matching every given filter, oldest first, at most the newest `limit` of them. */
export function queryRecords(db: DatabaseSync, query: AuditQuery): Record<string, unknown>[] {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  const filters: [string, string | undefined][] = [
    ["$.tool", query.tool],
    ["$.decision", query.decision],
    ["$.event", query.event],
    ["$.session", query.session],
  ];
  for (const [path, value] of filters) {
    if (value === undefined) continue;
    where.push(`json_extract(record, '${path}') = ?`);
    params.push(value);
  }
  // Times are all toISOString() output (same length, UTC), so text order is time order.
  if (query.since !== undefined) {
    where.push("json_extract(record, '$.time') >= ?");
    params.push(query.since);
  }
  const sql = `SELECT record FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...params, query.limit) as { record: string }[];
  return rows.reverse().map((row) => JSON.parse(row.record) as Record<string, unknown>);
}
