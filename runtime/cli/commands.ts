// The CLI's command table: each command lives in its own file and is registered here, once.
// First, for its effect: starts a cell for `tool run` while the command modules below load.
import "./early-cell.ts";
import { agentPs, agentReplay, agentResume, agentRun, agentShow } from "./agent.ts";
import { AUDIT_QUERY_HELP, AUDIT_TAIL_HELP, auditQuery, auditTail } from "./audit-read.ts";
import { AUDIT_VERIFY_HELP, auditVerify } from "./audit-verify.ts";
import { CELLS_HELP, cellsCommand } from "./cells.ts";
import {
  AGENT_PS_HELP,
  AGENT_REPLAY_HELP,
  AGENT_RESUME_HELP,
  AGENT_RUN_HELP,
  AGENT_SHOW_HELP,
  TOOL_RUN_HELP,
} from "./help.ts";
import { MCP_APPROVE_HELP, MCP_REVIEW_HELP, MCP_SERVE_HELP, mcpApprove, mcpReview, mcpServe } from "./mcp.ts";
import { POLICY_CHECK_HELP, POLICY_EXPLAIN_HELP, policyCheck, policyExplain } from "./policy-check.ts";
import { POLICY_DIFF_HELP, policyDiff } from "./policy-diff.ts";
import { POLICY_PIN_HELP, policyPin } from "./policy-pin.ts";
import { TOOL_RUN_POLICY_HELP } from "./policy-run.ts";
import { POLICY_TEST_HELP, policyTest } from "./policy-test.ts";
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
    help: `${TOOL_RUN_HELP}${TOOL_RUN_POLICY_HELP}`,
    run: toolRun,
  },
  {
    path: ["agent", "run"],
    summary: "run one of a policy's agents on a task; prints {session, answer} as JSON",
    help: AGENT_RUN_HELP,
    run: agentRun,
  },
  {
    path: ["agent", "ps"],
    summary: "list agent sessions and their status (--json)",
    help: AGENT_PS_HELP,
    run: agentPs,
  },
  {
    path: ["agent", "show"],
    summary: "print one session's conversation as journaled (--json)",
    help: AGENT_SHOW_HELP,
    run: agentShow,
  },
  {
    path: ["agent", "resume"],
    summary: "continue a session whose kernel stopped (--model moves it to another model)",
    help: AGENT_RESUME_HELP,
    run: agentResume,
  },
  {
    path: ["agent", "replay"],
    summary: "re-run a session from its journal and report whether every step matched",
    help: AGENT_REPLAY_HELP,
    run: agentReplay,
  },
  {
    path: ["policy", "check"],
    summary: "check a policy file: valid or not, every problem with its line and field",
    help: POLICY_CHECK_HELP,
    run: policyCheck,
  },
  {
    path: ["policy", "explain"],
    summary: "say in plain words what each tool may and may not do under a policy",
    help: POLICY_EXPLAIN_HELP,
    run: policyExplain,
  },
  {
    path: ["policy", "test"],
    summary: "check a table of cases (tool, handle, op, args, allow|deny) against a policy, running nothing",
    help: POLICY_TEST_HELP,
    run: policyTest,
  },
  {
    path: ["policy", "diff"],
    summary: "what a new version of a policy grants or takes away",
    help: POLICY_DIFF_HELP,
    run: policyDiff,
  },
  {
    path: ["policy", "pin"],
    summary: "write a digest of each tool's definition and code into a policy",
    help: POLICY_PIN_HELP,
    run: policyPin,
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
  {
    path: ["mcp", "serve"],
    summary: "serve a policy's tools (and approved tools of external MCP servers) over MCP, stdio or HTTP",
    help: MCP_SERVE_HELP,
    run: mcpServe,
  },
  {
    path: ["mcp", "review"],
    summary: "show each external MCP tool a policy allows and whether its definition is approved",
    help: MCP_REVIEW_HELP,
    run: mcpReview,
  },
  {
    path: ["mcp", "approve"],
    summary: "approve the current definitions of an external MCP server's tools",
    help: MCP_APPROVE_HELP,
    run: mcpApprove,
  },
];
