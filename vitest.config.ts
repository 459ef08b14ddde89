// Test runner settings: sandboxes need real time, so tests run in forks with generous timeouts (they bound
// hangs: on a 2-core machine shared with other work, one CLI test run took 15 s and one MCP test 28 s).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
