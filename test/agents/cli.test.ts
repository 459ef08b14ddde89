// `warden agent run|ps|show|resume|replay`: the exact forms the issue fixes, their help, and usage errors.
import { describe, expect, test } from "vitest";
import { runCli } from "../support/cli.ts";
import { tempDir } from "../support/tools.ts";

describe("usage", () => {
  test("each agent command has help, and warden --help lists them", async () => {
    const main = await runCli(["--help"]);
    for (const word of ["run", "ps", "show", "resume", "replay"])
      expect(main.stdout).toContain(`agent ${word}`);
    const run = await runCli(["agent", "run", "--help"]);
    expect(run.stdout).toContain("warden agent run NAME --policy FILE --task TEXT [--state DIR]");
    const resume = await runCli(["agent", "resume", "--help"]);
    expect(resume.stdout).toContain("warden agent resume SESSION [--state DIR] [--model SPEC]");
  });

  test("a missing policy, task or session is a usage error on the last stderr line, exit 2", async () => {
    const state = tempDir();
    const cases: Array<[string[], string]> = [
      [["agent", "run", "reader", "--task", "x", "--state", state], "--policy FILE is required"],
      [["agent", "run", "reader", "--policy", "p.yaml", "--state", state], "--task TEXT is required"],
      [["agent", "run", "--policy", "p.yaml", "--task", "x"], "takes one agent NAME, got 0"],
      [["agent", "show", "--state", state], "takes one SESSION, got 0"],
      [["agent", "resume", "a", "b", "--state", state], "takes one SESSION, got 2"],
      [["agent", "ps", "--state", state, "--colour"], "Unknown option '--colour'"],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.error?.code).toBe("USAGE");
      expect(r.error?.message).toContain(message);
    }
  });
});
