// The CLI's command table: each command lives in its own file and is registered here, once.
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
];
