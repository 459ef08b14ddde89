// Cells side by side with in-process sandboxes: a cold load and first call, a warm call, a warm call that
// makes one handle call, and the first call after a limit killed the sandbox. Self-contained:
//   node bench/cells.ts [--calls N]
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createRuntime, WardenError } from "../runtime/index.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "2000" } } });
const CALLS = Number(values.calls);
const COLD_RUNS = 8;
const RESTARTS = 8;
type Isolation = "in-process" | "cell";
const ISOLATIONS: Isolation[] = ["in-process", "cell"];

const dir = mkdtempSync(join(tmpdir(), "warden-bench-cells-"));
const TOOL = join(dir, "echo.js");
writeFileSync(
  TOOL,
  `import { defineTool, z } from "warden/sdk";
export default defineTool({
  name: "echo", description: "echo, or one kv read, or spin", input: z.any(), output: z.any(),
  capabilities: { kv: { type: "kv" } },
  async run(input, caps) {
    if (input.spin) for (;;) {}
    if (input.kv) return { v: await caps.kv.get("k") };
    return input;
  },
});`,
);

function stats(samples: number[]): { median: number; p90: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return { median: at(50), p90: at(90), p99: at(99) };
}

async function cold(isolation: Isolation): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const runtime = createRuntime({ cwd: dir, isolation, log: () => {} });
    const started = performance.now();
    const tool = await runtime.loadTool(TOOL, { grants: { kv: "kv" } });
    await tool.call({ n: 1 });
    samples.push(performance.now() - started);
    await runtime.close();
  }
  return samples;
}

async function warm(isolation: Isolation, input: unknown): Promise<number[]> {
  const runtime = createRuntime({ cwd: dir, isolation, log: () => {} });
  const tool = await runtime.loadTool(TOOL, { grants: { kv: "kv" } });
  for (let i = 0; i < 200; i++) await tool.call(input);
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await tool.call(input);
    samples.push((performance.now() - started) * 1000);
  }
  await runtime.close();
  return samples;
}

async function restart(isolation: Isolation): Promise<number[]> {
  const runtime = createRuntime({ cwd: dir, isolation, log: () => {} });
  const tool = await runtime.loadTool(TOOL, { grants: { kv: "kv" }, limits: { cpuMs: 50 } });
  await tool.call({});
  const samples: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    const error = await tool.call({ spin: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof WardenError) || error.code !== "LIMIT_EXCEEDED") throw error;
    // Let a spare cell start, as it would between calls in a real host.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = performance.now();
    await tool.call({});
    samples.push(performance.now() - started);
  }
  await runtime.close();
  return samples;
}

const rows: Array<[string, string, string, ReturnType<typeof stats>]> = [];
for (const isolation of ISOLATIONS) {
  rows.push(["cold: load + first call", isolation, "ms", stats(await cold(isolation))]);
  rows.push(["warm call (echo)", isolation, "us", stats(await warm(isolation, { n: 1 }))]);
  rows.push(["warm call + 1 kv read", isolation, "us", stats(await warm(isolation, { kv: true }))]);
  rows.push(["first call after a kill", isolation, "ms", stats(await restart(isolation))]);
}

console.log(`cells vs in-process, ${CALLS} warm calls per row, node ${process.version}`);
console.log("| measure | isolation | median | p90 | p99 |");
console.log("| --- | --- | --- | --- | --- |");
const fmt = (n: number, unit: string) => (unit === "us" ? `${n.toFixed(0)} us` : `${n.toFixed(1)} ms`);
for (const [measure, isolation, unit, s] of rows)
  console.log(
    `| ${measure} | ${isolation} | ${fmt(s.median, unit)} | ${fmt(s.p90, unit)} | ${fmt(s.p99, unit)} |`,
  );
