// `npm run bench`: runs every measurement side by side, prints a table with ratios and the goals, writes JSON and SVG.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { createRuntime } from "../runtime/index.ts";
import { chart } from "./chart.ts";
import { evaluateGoals, printGoals } from "./goals.ts";
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
  capacity,
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
    svg: { type: "string" },
  },
});
const sizes = values.quick ? QUICK : FULL;
// A full run is the one quoted: its figures and chart are kept, by date, in bench/figures/. A quick run is a
// smoke test: its chart goes to bench/results/ (not committed), its JSON only where asked.
const day = new Date().toISOString().slice(0, 10);
const jsonPath = values.json ?? (values.quick ? undefined : `bench/figures/${day}.json`);
const svgPath = values.svg ?? (values.quick ? "bench/results/latest.svg" : `bench/figures/${day}.svg`);
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
  if (subject.warden && subject !== inCell) {
    progress(`cold start, back to back: ${subject.name}`);
    figures.push(await coldStart(subject, sizes, true));
  }
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
    // ~10 MiB each: a thousand would only measure swap. In-process QuickJS runs each sandbox on a worker
    // thread of its own (isolates/thread/), ~25 MiB each: past 100 its loads pass their wall limit, so how
    // many fit is left to the capacity run below, which stops at its bounds and says which.
    if (count > 100 && (subject === workerThread || subject.backend === "quickjs")) continue;
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
// With a state directory every call's audit record is fsynced before the call returns; concurrent calls share
// one commit (group commit), so this shows what durability costs under load.
{
  const durable = createRuntime({
    log: () => {},
    isolation: "in-process",
    stateDir: mkdtempSync(join(tmpdir(), "warden-bench-state-")),
  });
  progress("throughput with a durable audit log: warden v8");
  const subject = wardenSubject(durable, "warden v8", { backend: "v8" });
  for (const f of await throughput(subject, sizes, cores * 4, 0))
    figures.push({ ...f, metric: `${f.metric}, durable audit (state directory)` });
  await durable.close();
}
// Last, so the memory it takes (and gives back, not always to the OS) does not weigh on the other figures.
for (const subject of inProcess) {
  const engine = subject.backend === "quickjs" ? "quickjs" : "v8";
  progress(`sandboxes alive at once (up to ${sizes.capacity[engine]}): ${subject.name}`);
  figures.push(...(await capacity(subject, sizes.capacity[engine], sizes.capacity)));
}
await runtime.close();

const goals = evaluateGoals(figures, {
  alive: sizes.idle[sizes.idle.length - 1]!,
  sandboxes: cores * 4,
  rogues: cores,
  quick: values.quick,
  capacity: { v8: sizes.capacity.v8, quickjs: sizes.capacity.quickjs },
});
printTable(figures);
printGoals(goals);
const metrics = [...new Set(figures.map((f) => f.metric))].filter(
  (m) => !m.startsWith("latency") && !m.includes("host JS heap"),
);
mkdirSync(dirname(svgPath), { recursive: true });
writeFileSync(
  svgPath,
  chart(
    figures,
    metrics,
    `Warden bench${values.quick ? " (--quick smoke run)" : ""}, ${machine().cpu}, ${machine().cores} cores, Node ${machine().node}`,
    goals,
  ),
);
progress(`chart: ${svgPath}`);
if (jsonPath) {
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(
    jsonPath,
    `${JSON.stringify({ machine: machine(), quick: values.quick, figures, goals }, null, 2)}\n`,
  );
  progress(`figures: ${jsonPath}`);
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
        `  ${f.subject.padEnd(26)} ${f.median.toFixed(1).padStart(10)} ${f.unit.padEnd(9)} ${spread.padEnd(34)} ${ratio}${f.note ? `  (${f.note})` : ""}`,
      );
    }
  }
}
