// The CLI's command table: each command lives in its own file and is registered here, once.
import { AUDIT_QUERY_HELP, AUDIT_TAIL_HELP, auditQuery, auditTail } from "./audit-read.ts";
import { AUDIT_VERIFY_HELP, auditVerify } from "./audit-verify.ts";
import { CELLS_HELP, cellsCommand } from "./cells.ts";
import { TOOL_RUN_HELP } from "./help.ts";
import { toolRun } from "./tool-run.ts";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Command {
  /** Words that name it: ["tool", "run"]. */
  path: readonly string[];
  /** One line for `warden --help`. */
  summary: string;
  help: string;
  run: (argv: string[], io: CliIo) => Promise<void>;
}

export const COMMANDS: readonly Command[] = [
  {
    path: ["tool", "run"],
    summary: "run a tool once with the grants and limits you give it (--grant NAME=SPEC gives it a handle)",
    help: TOOL_RUN_HELP,
    run: toolRun,
  },
  {
    path: ["audit", "verify"],
    summary: "check the audit log's hash chain; names the first record edited, deleted or moved",
    help: AUDIT_VERIFY_HELP,
    run: auditVerify,
  },
  {
    path: ["audit", "tail"],
    summary: "print the newest audit records as JSON lines (-n N)",
    help: AUDIT_TAIL_HELP,
    run: auditTail,
  },
  {
    path: ["audit", "query"],
    summary: "print audit records matching --tool, --decision, --event, --session, --since",
    help: AUDIT_QUERY_HELP,
    run: auditQuery,
  },
  {
    path: ["cells"],
    summary: "report how sandboxes are isolated here (each OS layer, on or off and why); check a cell starts",
    help: CELLS_HELP,
    run: cellsCommand,
  },
];
