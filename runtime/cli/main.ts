#!/usr/bin/env node
// The warden command: dispatches subcommands and turns every failure into one JSON error line and an exit code.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WardenError } from "../errors.ts";
import { stderrReporter } from "../internal.ts";
import { PACKAGE_ROOT } from "../own-files.ts";
import { COMMANDS } from "./commands.ts";
import { mainHelp } from "./help.ts";

// Node marks type stripping (used to load .ts tools) experimental; its one-line warning is noise on a CLI.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "ExperimentalWarning") process.stderr.write(`${w.name}: ${w.message}\n`);
});

// A reader that stops early (`warden … | head`) closes the pipe; that is not a failure of the command.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

// `npm run warden -- …` runs in the repository's root; relative paths mean what they meant where it was typed.
if (process.env.npm_lifecycle_event === "warden" && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

const io = {
  stdout: (text: string) => void process.stdout.write(text),
  stderr: (text: string) => void process.stderr.write(text),
};

async function main(argv: string[]): Promise<void> {
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  const words = argv.filter((a) => !a.startsWith("-"));
  if (argv[0] === "--version") {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    io.stdout(`${pkg.version}\n`);
    return;
  }
  // The longest registered command whose words begin the arguments.
  const command = [...COMMANDS]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((word, i) => argv[i] === word));
  if (command) return wantsHelp ? io.stdout(command.help) : command.run(argv.slice(command.path.length), io);
  const groups = new Set(COMMANDS.map((c) => c.path[0]));
  if (argv.length === 0 || wantsHelp || (words.length === 1 && groups.has(words[0]!)))
    return io.stdout(mainHelp(COMMANDS));
  const named = groups.has(argv[0]!) && argv[1] !== undefined ? `${argv[0]} ${argv[1]}` : argv[0];
  throw new WardenError("USAGE", `unknown command "${named}"; run warden --help`);
}

function fail(error: unknown): void {
  let e: WardenError;
  if (error instanceof WardenError && error.code !== "INTERNAL") e = error;
  else if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
    e = new WardenError("USAGE", `${error.message}; see --help`);
  } else {
    // A bug in Warden: its stack goes to stderr (the operator's) under an id the error line cites.
    e = stderrReporter(error, `warden ${process.argv.slice(2, 4).join(" ")}`);
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
