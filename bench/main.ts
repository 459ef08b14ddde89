// `npm run bench`: runs every measurement side by side, prints a table with ratios, and writes JSON and SVG.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { createRuntime } from "../runtime/index.ts";
import { chart } from "./chart.ts";
import { type Figure, machine } from "./harness.ts";
import {
  bareIsolate,
  childProcess,
  mcpStdio,
  nodeVm,
  type Subject,
  wardenSubject,
  workerThread,
} from "./subjects/index.ts";
import {
  capabilityCalls,
  coldStart,
  FULL,
  hostOperations,
  idleMemory,
  QUICK,
  throughput,
  warmCalls,
} from "./suites.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    svg: { type: "string", default: "bench/results/latest.svg" },
  },
});
const sizes = values.quick ? QUICK : FULL;
// In-process is the like-for-like comparison with bare isolated-vm; cells (Warden's default) add a process
// boundary and are measured as their own subject.
const runtime = createRuntime({ log: () => {}, isolation: "in-process" });
const inProcess: Subject[] = [wardenSubject(runtime, "warden v8", { backend: "v8" })];
for (const backend of ["quickjs"]) {
  if (runtime.hasBackend(backend)) inProcess.push(wardenSubject(runtime, `warden ${backend}`, { backend }));
}
const inCell = wardenSubject(runtime, "warden v8 in a cell", { backend: "v8:cell" });
const wardens: Subject[] = [...inProcess, inCell];
const baselines = [bareIsolate, nodeVm, workerThread, childProcess, mcpStdio];
const figures: Figure[] = [];
const progress = (text: string) => process.stderr.write(`${text}\n`);

for (const subject of [...wardens, ...baselines]) {
  progress(`cold start: ${subject.name}`);
  figures.push(
    await coldStart(
      subject,
      values.quick || subject.name.includes("MCP") || subject.name.includes("child")
        ? { ...sizes, cold: Math.min(sizes.cold, 10) }
        : sizes,
    ),
  );
  progress(`warm calls: ${subject.name}`);
  figures.push(
    ...(await warmCalls(
      subject,
      subject.name.includes("MCP") ? { ...sizes, warm: Math.min(sizes.warm, 500) } : sizes,
    )),
  );
}
const dir = mkdtempSync(join(tmpdir(), "warden-bench-"));
for (const subject of wardens) {
  progress(`capability calls: ${subject.name}`);
  figures.push(...(await capabilityCalls(runtime, dir, sizes, subject)));
}
figures.push(...(await hostOperations(dir, sizes)));
// Memory and throughput of in-process subjects only: a cell's memory is in another process, which this
// process's RSS does not see.
for (const count of sizes.idle) {
  for (const subject of [...inProcess, bareIsolate, nodeVm, workerThread]) {
    if (count > 100 && subject === workerThread) continue; // ~10 MiB each: a thousand would only measure swap
    progress(`idle memory x${count}: ${subject.name}`);
    figures.push(...(await idleMemory(subject, count)));
  }
}
const cores = availableParallelism();
for (const subject of [...inProcess, bareIsolate]) {
  progress(`throughput: ${subject.name}`);
  figures.push(...(await throughput(subject, sizes, cores * 4, 0)));
  if (subject.name.startsWith("warden"))
    figures.push(...(await throughput(subject, sizes, cores * 4, cores)));
}
await runtime.close();

printTable(figures);
printGoals(figures);
const metrics = [...new Set(figures.map((f) => f.metric))].filter(
  (m) => !m.startsWith("latency") && !m.includes("host JS heap"),
);
mkdirSync(dirname(values.svg), { recursive: true });
writeFileSync(
  values.svg,
  chart(figures, metrics, `Warden bench, ${machine().cpu}, ${machine().cores} cores, Node ${machine().node}`),
);
progress(`chart: ${values.svg}`);
if (values.json) {
  writeFileSync(
    values.json,
    `${JSON.stringify({ machine: machine(), quick: values.quick, figures }, null, 2)}\n`,
  );
  progress(`figures: ${values.json}`);
}

function reference(metric: string, subject: string): Figure | undefined {
  return figures.find((f) => f.metric === metric && f.subject === subject);
}

function printTable(all: Figure[]): void {
  const m = machine();
  console.log(
    `\nWarden bench${values.quick ? " (--quick: few samples, smoke only)" : ""}: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}\n`,
  );
  for (const metric of new Set(all.map((f) => f.metric))) {
    console.log(metric);
    const warden = reference(metric, "warden v8");
    for (const f of all.filter((x) => x.metric === metric)) {
      const ratio = warden && f !== warden ? `${(f.median / warden.median).toFixed(2)}x warden v8` : "";
      const spread = f.samples > 1 ? `p90 ${f.p90.toFixed(1)}  p99 ${f.p99.toFixed(1)}  n=${f.samples}` : "";
      console.log(
        `  ${f.subject.padEnd(26)} ${f.median.toFixed(1).padStart(10)} ${f.unit.padEnd(8)} ${spread.padEnd(34)} ${ratio}`,
      );
    }
  }
}

function printGoals(all: Figure[]): void {
  const ratio = (metric: string, a: string, b: string) => {
    const x = all.find((f) => f.metric === metric && f.subject === a);
    const y = all.find((f) => f.metric === metric && f.subject === b);
    return x && y ? x.median / y.median : Number.NaN;
  };
  const idle = `idle memory per sandbox, RSS (${sizes.idle[sizes.idle.length - 1]} alive)`;
  const quickjsIdle = all.find((f) => f.metric === idle && f.subject === "warden quickjs");
  const goals: Array<[string, number, (v: number) => boolean, string]> = [
    [
      "warm call: warden v8 / bare isolated-vm",
      ratio("warm call, small JSON", "warden v8", "bare isolated-vm"),
      (v) => v <= 1.5,
      "<= 1.5",
    ],
    [
      "cold start: warden v8 / bare isolated-vm",
      ratio("cold start (load, first call, dispose)", "warden v8", "bare isolated-vm"),
      (v) => v <= 2,
      "<= 2",
    ],
    [
      "cold start: MCP stdio / warden v8",
      ratio("cold start (load, first call, dispose)", "MCP server over stdio", "warden v8"),
      (v) => v >= 20,
      ">= 20",
    ],
    [
      "warm call: MCP stdio / warden v8",
      ratio("warm call, small JSON", "MCP server over stdio", "warden v8"),
      (v) => v >= 10,
      ">= 10",
    ],
    [
      "idle RSS: warden v8 / bare isolated-vm",
      ratio(idle, "warden v8", "bare isolated-vm"),
      (v) => v <= 1.5,
      "<= 1.5",
    ],
    ["idle RSS per QuickJS sandbox (KiB)", quickjsIdle?.median ?? Number.NaN, (v) => v < 200, "< 200"],
  ];
  console.log(
    "\nGoals (from this run; see bench/README.md for what each miss costs and what would remove it)",
  );
  for (const [name, value, ok, target] of goals) {
    const verdict = Number.isNaN(value) ? "not measured" : ok(value) ? "met" : "MISSED";
    console.log(
      `  ${name.padEnd(44)} ${Number.isNaN(value) ? "-" : value.toFixed(2)}  (goal ${target})  ${verdict}`,
    );
  }
}
