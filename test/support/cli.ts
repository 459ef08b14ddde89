// Test helper: runs the warden CLI as a child process (`node runtime/cli/main.ts`, what `npm run warden` runs).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = join(REPO, "runtime/cli/main.ts");

/** The JSON error line the CLI writes to stderr on failure. */
export interface ErrorLine {
  error: { code: string; message: string };
}

export interface CliRun {
  /** Exit code, or null when the process died of a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stderr's last non-empty line parsed as JSON, if it is JSON. */
  lastErrorLine: ErrorLine | undefined;
  /** The error of the last stderr line that is a JSON object, if any. */
  error: ErrorLine["error"] | undefined;
  ms: number;
  /** The run passed `killAfterMs` and was killed. */
  timedOut: boolean;
}

export interface CliOptions {
  cwd?: string;
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Added to the child's environment. */
  env?: Record<string, string>;
  /** A hang bound: past it the child is killed with SIGKILL. Default 60 s. */
  killAfterMs?: number;
}

function parsed<T>(line: string | undefined): T | undefined {
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.NODE_OPTIONS; // the CLI runs as a plain `node` process, not under vitest's loader options
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPO,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.killAfterMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      const lines = stderr.split("\n");
      const lastErrorLine = parsed<ErrorLine>(lines.findLast((line) => line.trim() !== ""));
      const error = parsed<ErrorLine>(lines.findLast((line) => line.startsWith("{")))?.error;
      resolve({
        code,
        signal,
        stdout,
        stderr,
        lastErrorLine,
        error,
        ms: performance.now() - started,
        timedOut,
      });
    });
    // The child may exit before reading stdin; that is not the test's failure.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

/** A run that failed with `code` (exit 1), words in its message, and no stack frame anywhere on stderr. */
export function expectCodedFailure(run: CliRun, code: string, ...words: string[]): void {
  expect(run.error?.code, run.stderr).toBe(code);
  for (const word of words) expect(run.error?.message).toContain(word);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.code).toBe(1);
}
