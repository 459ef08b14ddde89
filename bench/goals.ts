// The goals, each a ratio of two figures from the same run (or one figure against a fixed target).
import type { Figure } from "./harness.ts";

export const METRIC = {
  cold: "cold start (load, first call, dispose)",
  coldBackToBack: "cold start, back to back (no idle time for a pool to refill)",
  warm: "warm call, small JSON",
  fs: "capability call: fs read of a small file",
  idle: (alive: number) => `idle memory per sandbox, RSS (${alive} alive)`,
  throughput: (sandboxes: number) => `throughput, ${sandboxes} sandboxes`,
  misbehaving: (sandboxes: number, rogues: number) =>
    `throughput, ${sandboxes} sandboxes, ${rogues} misbehaving tools alongside`,
  alive: "sandboxes alive at once",
} as const;

/** The baseline for fs reads: the same handle-relative, no-follow open, fstat, read and close, by the host. */
export const HOST_SAME_WALK = "host, same safe walk";

export interface GoalResult {
  goal: string;
  /** What is divided by what, with both medians, so the ratio can be checked by hand. */
  of: string;
  value: number;
  target: string;
  /** The issue's figure before this work (issue 16's table). */
  was: string;
  status: "met" | "MISSED" | "not measured" | "not measured at scale (--quick)";
}

interface Shape {
  alive: number;
  sandboxes: number;
  rogues: number;
  quick: boolean;
  /** The sandbox counts the capacity runs aimed for (their goals are 1,000 and 10,000). */
  capacity: { v8: number; quickjs: number };
}

export function evaluateGoals(figures: Figure[], shape: Shape): GoalResult[] {
  const find = (metric: string, subject: string) =>
    figures.find((f) => f.metric === metric && f.subject === subject);
  const describe = (f: Figure | undefined) =>
    f ? `${f.subject} ${f.median.toFixed(f.median >= 100 ? 0 : 1)} ${f.unit}` : "(missing)";
  const ratio = (
    goal: string,
    metric: string,
    a: string,
    b: string,
    target: string,
    ok: (v: number) => boolean,
    was: string,
    metricB = metric,
  ): GoalResult => {
    const x = find(metric, a);
    const y = find(metricB, b);
    const value = x && y ? x.median / y.median : Number.NaN;
    const status = Number.isNaN(value) ? "not measured" : ok(value) ? "met" : "MISSED";
    return { goal, of: `${describe(x)} / ${describe(y)}`, value, target, was, status };
  };
  const absolute = (
    goal: string,
    figure: Figure | undefined,
    scale: number,
    target: string,
    ok: (v: number) => boolean,
    was: string,
    atScale = true,
  ): GoalResult => {
    const value = figure ? figure.median * scale : Number.NaN;
    const status = Number.isNaN(value)
      ? "not measured"
      : !atScale
        ? "not measured at scale (--quick)"
        : ok(value)
          ? "met"
          : "MISSED";
    return { goal, of: describe(figure), value, target, was, status };
  };
  const idle = METRIC.idle(shape.alive);
  // In-process QuickJS is measured up to 100 alive (a worker thread each, bench/main.ts): its goal reads the
  // figure with the most sandboxes alive, and says how many.
  const aliveIn = (f: Figure) => Number(/\((\d+) alive\)/.exec(f.metric)?.[1] ?? 0);
  const quickjsIdle = figures
    .filter((f) => f.subject === "warden quickjs" && f.metric.startsWith(METRIC.idle(0).split("(")[0]!))
    .sort((a, b) => aliveIn(b) - aliveIn(a))[0];
  return [
    ratio(
      "warm call, in-process / bare isolated-vm",
      METRIC.warm,
      "warden v8",
      "bare isolated-vm",
      "<= 1.0",
      (v) => v <= 1,
      "1.94",
    ),
    ratio(
      "warm call in a cell / bare isolated-vm",
      METRIC.warm,
      "warden v8 in a cell",
      "bare isolated-vm",
      "<= 1.5",
      (v) => v <= 1.5,
      "3.2",
    ),
    ratio(
      "cold start / bare isolate",
      METRIC.cold,
      "warden v8",
      "bare isolated-vm",
      "<= 2",
      (v) => v <= 2,
      "7.4",
    ),
    ratio(
      `idle RSS per V8 sandbox / bare isolate (${shape.alive} alive)`,
      idle,
      "warden v8",
      "bare isolated-vm",
      "<= 1.5",
      (v) => v <= 1.5,
      "6.95",
    ),
    absolute(
      `idle RSS per QuickJS sandbox, MiB (${quickjsIdle ? aliveIn(quickjsIdle) : shape.alive} alive)`,
      quickjsIdle,
      1 / 1024,
      "<= 1",
      (v) => v <= 1,
      "3.1",
    ),
    ratio(
      "cold start: MCP stdio / warden v8",
      METRIC.cold,
      "MCP server over stdio",
      "warden v8",
      ">= 20",
      (v) => v >= 20,
      "11",
    ),
    ratio(
      "warm call: MCP stdio / warden v8",
      METRIC.warm,
      "MCP server over stdio",
      "warden v8",
      ">= 10",
      (v) => v >= 10,
      "1.6",
    ),
    ratio(
      "fs small read / the same safe walk by the host",
      METRIC.fs,
      "warden v8",
      HOST_SAME_WALK,
      "<= 2",
      (v) => v <= 2,
      "about 11",
    ),
    ratio(
      "throughput / bare isolated-vm",
      METRIC.throughput(shape.sandboxes),
      "warden v8",
      "bare isolated-vm",
      ">= 0.8",
      (v) => v >= 0.8,
      "0.46",
    ),
    ratio(
      `well-behaved throughput with ${shape.rogues} misbehaving tools / quiet`,
      METRIC.misbehaving(shape.sandboxes, shape.rogues),
      "warden v8",
      "warden v8",
      ">= 0.7",
      (v) => v >= 0.7,
      "0.26",
      METRIC.throughput(shape.sandboxes),
    ),
    absolute(
      "V8 sandboxes alive at once in one kernel",
      find(METRIC.alive, "warden v8"),
      1,
      ">= 1,000",
      (v) => v >= 1000,
      "not measured",
      shape.capacity.v8 >= 1000,
    ),
    absolute(
      "QuickJS sandboxes alive at once in one kernel",
      find(METRIC.alive, "warden quickjs"),
      1,
      ">= 10,000",
      (v) => v >= 10_000,
      "not measured",
      shape.capacity.quickjs >= 10_000,
    ),
  ];
}

export function printGoals(results: GoalResult[]): void {
  console.log("\nGoals (issue 16), each from this run; see bench/README.md for what each miss would take");
  for (const r of results) {
    const value = Number.isNaN(r.value) ? "-" : r.value.toFixed(2);
    console.log(
      `  ${r.goal.padEnd(58)} ${value.padStart(8)}  goal ${r.target.padEnd(9)} was ${r.was.padEnd(12)} ${r.status}`,
    );
    console.log(`  ${"".padEnd(58)} = ${r.of}`);
  }
}
