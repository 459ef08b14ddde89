// Test helper: runs the warden CLI as `npm run warden` does and reads its last stderr line as the error line.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(REPO, "runtime/cli/main.ts");
const HARD_KILL_MS = 30_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr's last non-empty line parsed as JSON, if it is JSON. */
  error: { code: string; message: string } | undefined;
}

export function runWarden(args: string[], options: { cwd?: string } = {}): Promise<CliRun> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // a plain `node` process, not under vitest's loader options
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPO,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), HARD_KILL_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      const last = stderr.split("\n").findLast((line) => line.trim() !== "");
      let error: CliRun["error"];
      try {
        error = last === undefined ? undefined : (JSON.parse(last) as { error: CliRun["error"] }).error;
      } catch {
        error = undefined;
      }
      resolve({ code, stdout, stderr, error });
    });
  });
}

/** A run that failed with `code` (exit 1), words in its message, and no stack frame anywhere on stderr. */
export function expectCodedFailure(run: CliRun, code: string, ...words: string[]): void {
  expect(run.error?.code, run.stderr).toBe(code);
  for (const word of words) expect(run.error?.message).toContain(word);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.code).toBe(1);
}
