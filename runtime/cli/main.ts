#!/usr/bin/env node
// The warden command: dispatches subcommands and turns every failure into one JSON error line and an exit code.
import { readFileSync } from "node:fs";
import { WardenError } from "../errors.ts";
import { MAIN_HELP, TOOL_RUN_HELP } from "./help.ts";
import { toolRun } from "./tool-run.ts";

// Node marks type stripping (used to load .ts tools) experimental; its one-line warning is noise on a CLI.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "ExperimentalWarning") process.stderr.write(`${w.name}: ${w.message}\n`);
});

const out = { stdout: (s: string) => process.stdout.write(s) };

async function main(argv: string[]): Promise<void> {
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  const [command, sub, ...rest] = argv;
  if (command === "--version") {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    out.stdout(`${pkg.version}\n`);
    return;
  }
  if (command === undefined || (wantsHelp && command !== "tool")) return void out.stdout(MAIN_HELP);
  if (command === "tool" && sub === "run")
    return wantsHelp ? void out.stdout(TOOL_RUN_HELP) : toolRun(rest, out);
  if (command === "tool" && (sub === undefined || wantsHelp)) return void out.stdout(MAIN_HELP);
  const named = command === "tool" ? `tool ${sub}` : command;
  throw new WardenError("USAGE", `unknown command "${named}"; run warden --help`);
}

function fail(error: unknown): void {
  let e: WardenError;
  if (error instanceof WardenError) e = error;
  else if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
    e = new WardenError("USAGE", `${error.message}; see --help`);
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    e = new WardenError("INTERNAL", "internal error in Warden (details above)");
  }
  process.stderr.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
  finish(e.code === "USAGE" ? 2 : 1);
}

/**
 * Sets the exit code and lets Node exit once nothing is left to do: process.exit() while isolated-vm is
 * still tearing down an isolate on its own thread can crash the process. The unref'd timer only fires if
 * something keeps the process alive past the bound.
 */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 15_000).unref();
}

main(process.argv.slice(2)).then(() => finish(0), fail);
