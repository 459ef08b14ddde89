// The measurements: cold start, warm calls, capability calls, idle memory, and throughput under misbehaviour.
import { closeSync, constants, fstatSync, open as openCallback, readSync } from "node:fs";
import { open, readFile, writeFile } from "node:fs/promises";
import { freemem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { MemoryKvStore } from "../runtime/capabilities/kv/store.ts";
import { createRuntime, type Runtime, WardenError } from "../runtime/index.ts";
import { HOST_SAME_WALK, METRIC } from "./goals.ts";
import { collect, type Figure, sample, summarise } from "./harness.ts";
import type { Subject } from "./subjects/index.ts";

export interface Sizes {
  cold: number;
  warm: number;
  idle: readonly number[];
  capabilityOps: number;
  throughputMs: number;
  /** Sandboxes the capacity run aims to keep alive at once, per engine, and its bounds. */
  capacity: { v8: number; quickjs: number; seconds: number; maxGiB: number };
}

export const FULL: Sizes = {
  cold: 30,
  warm: 2000,
  idle: [1, 100, 1000],
  capabilityOps: 500,
  throughputMs: 3000,
  capacity: { v8: 1000, quickjs: 10_000, seconds: 180, maxGiB: 16 },
};
export const QUICK: Sizes = {
  cold: 3,
  warm: 50,
  idle: [1, 10],
  capabilityOps: 20,
  throughputMs: 300,
  capacity: { v8: 20, quickjs: 50, seconds: 20, maxGiB: 2 },
};

const SMALL = JSON.stringify({ data: "hello" });
const LARGE = JSON.stringify({ data: "x".repeat(64 * 1024) });

/**
 * Load, first call, dispose: the latency of one load. Samples are 100 ms apart (untimed), as loads are in a
 * host that is not saturated, so a pool of pre-started sandboxes has the idle time it needs to refill.
 * `backToBack` drops the gap: then a pool's refill runs inside the next load, and the figure shows the
 * whole cost of a start, wherever it is paid.
 */
export async function coldStart(subject: Subject, sizes: Sizes, backToBack = false): Promise<Figure> {
  const once = async () => {
    const instance = await subject.start();
    await instance.call(SMALL);
    await instance.stop();
  };
  await once();
  const values: number[] = [];
  for (let i = 0; i < sizes.cold; i++) {
    if (!backToBack) await new Promise((resolve) => setTimeout(resolve, 100));
    const start = process.hrtime.bigint();
    await once();
    values.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return summarise(backToBack ? METRIC.coldBackToBack : METRIC.cold, subject.name, "ms", values);
}

export async function warmCalls(subject: Subject, sizes: Sizes): Promise<Figure[]> {
  const instance = await subject.start();
  try {
    const small = await sample(() => instance.call(SMALL), sizes.warm, Math.min(100, sizes.warm), 1000);
    const large = await sample(() => instance.call(LARGE), Math.ceil(sizes.warm / 4), 10, 1000);
    return [
      summarise(METRIC.warm, subject.name, "us", small),
      summarise("warm call, 64 KiB JSON", subject.name, "us", large),
    ];
  } finally {
    await instance.stop();
  }
}

/**
 * Cost of one handle call made from inside the sandbox: a run with n calls minus a run with none, over n;
 * next to the same operation done directly by the host.
 */
export async function capabilityCalls(
  runtime: Runtime,
  dir: string,
  sizes: Sizes,
  subject: Subject,
): Promise<Figure[]> {
  const backend = subject.backend;
  await writeFile(join(dir, "small.txt"), "a small file\n");
  const tool = await runtime.loadTool(fileURLToPath(new URL("tools/caps.js", import.meta.url)), {
    grants: { files: `fs:read:${dir}`, store: "kv" },
    backend,
  });
  const n = sizes.capabilityOps;
  const label = subject.name;
  const figures: Figure[] = [];
  try {
    for (const op of ["fs", "kv"] as const) {
      const base = await sample(() => tool.call({ op, n: 0 }), 10, 2);
      const full = await sample(() => tool.call({ op, n }), 10, 2);
      const baseMedian = [...base].sort((a, b) => a - b)[Math.floor(base.length / 2)]!;
      const perOp = full.map((ms) => ((ms - baseMedian) / n) * 1000);
      figures.push(summarise(op === "fs" ? METRIC.fs : "capability call: kv get", label, "us", perOp));
    }
  } finally {
    await tool.dispose();
  }
  return figures;
}

/** The same operations done directly by the host, for the capability-call figures to be read against. */
export async function hostOperations(dir: string, sizes: Sizes): Promise<Figure[]> {
  const n = sizes.capabilityOps;
  const figures: Figure[] = [];
  const file = join(dir, "small.txt");
  await writeFile(file, "a small file\n");
  figures.push(
    summarise(METRIC.fs, "host, directly", "us", await sample(() => readFile(file, "utf8"), n, 20, 1000)),
  );
  // The same walk done by the host without Warden: open relative to a held directory fd with O_NOFOLLOW
  // (refusing FIFOs and devices), fstat, one read of the known size plus one, close. HOST_SAME_WALK makes
  // exactly the calls Warden's fs kind makes (the open asynchronous, the fd calls synchronous); the other
  // makes every call asynchronously, as a host would write it with fs/promises.
  const root = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
  const path = `/proc/self/fd/${root.fd}/small.txt`;
  const openFd = promisify(openCallback);
  try {
    const same = async () => {
      const fd = await openFd(path, flags);
      try {
        const stats = fstatSync(fd);
        if (!stats.isFile()) throw new Error("not a regular file");
        const buffer = new Uint8Array(stats.size + 1);
        const bytesRead = readSync(fd, buffer, 0, buffer.length, null);
        return Buffer.from(buffer.buffer, 0, bytesRead).toString("utf8");
      } finally {
        closeSync(fd);
      }
    };
    const allAsync = async () => {
      const file = await open(path, flags);
      try {
        const stats = await file.stat();
        if (!stats.isFile()) throw new Error("not a regular file");
        const buffer = new Uint8Array(stats.size + 1);
        const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
        return Buffer.from(buffer.buffer, 0, bytesRead).toString("utf8");
      } finally {
        await file.close();
      }
    };
    figures.push(summarise(METRIC.fs, HOST_SAME_WALK, "us", await sample(same, n, 20, 1000)));
    figures.push(
      summarise(METRIC.fs, "host, safe walk, all async", "us", await sample(allAsync, n, 20, 1000)),
    );
  } finally {
    await root.close();
  }
  const store = new MemoryKvStore();
  store.set("ns", "k", JSON.stringify("value"));
  figures.push(
    summarise(
      "capability call: kv get",
      "host, directly",
      "us",
      await sample(async () => JSON.parse(store.get("ns", "k")!) as unknown, n, 20, 1000),
    ),
  );
  return figures;
}

/** Resident and heap memory per idle sandbox, with `count` of them alive at once. */
export async function idleMemory(subject: Subject, count: number): Promise<Figure[]> {
  // One start first, so a pool's spares (counted in every sandbox's RSS otherwise) exist before and after.
  await (await subject.start()).stop();
  await new Promise((resolve) => setTimeout(resolve, 50));
  collect();
  const before = process.memoryUsage();
  const instances = [];
  for (let i = 0; i < count; i++) {
    const instance = await subject.start();
    await instance.call(SMALL);
    instances.push(instance);
  }
  collect();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = process.memoryUsage();
  for (const instance of instances) await instance.stop();
  const rss = (after.rss - before.rss) / count / 1024;
  const heap = (after.heapUsed - before.heapUsed) / count / 1024;
  return [
    summarise(`idle memory per sandbox, RSS (${count} alive)`, subject.name, "KiB", [rss]),
    summarise(`idle memory per sandbox, host JS heap (${count} alive)`, subject.name, "KiB", [heap]),
  ];
}

/**
 * Calls per second with many sandboxes calling at once, and the latency of well-behaved tools while
 * `rogues` misbehaving ones (busy loops, memory bombs) hit their limits next to them.
 */
export async function throughput(
  subject: Subject,
  sizes: Sizes,
  concurrency: number,
  rogues: number,
): Promise<Figure[]> {
  const instances = await Promise.all(Array.from({ length: concurrency }, () => subject.start()));
  const stopRogues = rogues > 0 ? await startRogues(rogues) : async () => 0;
  // Untimed: lets a sandbox pool refill after the loads above, so the refill is not inside the window.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const latencies: number[] = [];
  const deadline = performance.now() + sizes.throughputMs;
  const started = performance.now();
  await Promise.all(
    instances.map(async (instance) => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await instance.call(SMALL);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const rogueHits = await stopRogues();
  for (const instance of instances) await instance.stop();
  const metric = rogues > 0 ? METRIC.misbehaving(concurrency, rogues) : METRIC.throughput(concurrency);
  const note = rogues > 0 ? `the misbehaving tools hit their limits ${rogueHits} times` : undefined;
  return [
    { ...summarise(metric, subject.name, "calls/s", [latencies.length / elapsed]), note },
    { ...summarise(metric.replace("throughput", "latency under load"), subject.name, "ms", latencies), note },
  ];
}

/** Rogue tools in their own runtime, calling in a loop and hitting their limits, until stopped. */
async function startRogues(count: number): Promise<() => Promise<number>> {
  const runtime = createRuntime({ log: () => {}, isolation: "in-process" });
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const rogue = join(dir, "..", "examples", "tools", "rogue.ts");
  const tools = await Promise.all(
    Array.from({ length: count }, () =>
      runtime.loadTool(rogue, {
        grants: { files: `fs:read:${dir}`, web: "net:GET:https://api.example.com" },
        limits: { timeoutMs: 500, cpuMs: 50, memoryMb: 16 },
      }),
    ),
  );
  let running = true;
  let hits = 0;
  const loops = tools.map(async (tool, i) => {
    while (running) {
      await tool.call({ trick: i % 2 === 0 ? "busy-loop" : "memory-bomb" }).catch((error: unknown) => {
        if (error instanceof WardenError && error.code === "LIMIT_EXCEEDED") hits++;
        else throw error;
      });
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    await runtime.close();
    return hits;
  };
}

/**
 * How many sandboxes one kernel keeps alive at once: loads (each answering one call) until `target`, the
 * time bound, or the memory bound (the lower of `maxGiB` and 70 % of the memory free at the start), then
 * disposes them all. The figure is the count reached; its note says which bound stopped it and the RSS each held.
 */
export async function capacity(
  subject: Subject,
  target: number,
  bounds: { seconds: number; maxGiB: number },
): Promise<Figure[]> {
  collect();
  const before = process.memoryUsage.rss();
  const budget = Math.min(bounds.maxGiB * 2 ** 30, freemem() * 0.7);
  const deadline = performance.now() + bounds.seconds * 1000;
  const started = performance.now();
  const alive = [];
  let stopped = `reached ${target}`;
  const SMALL_INPUT = JSON.stringify({ data: "hello" });
  try {
    while (alive.length < target) {
      if (performance.now() > deadline) {
        stopped = `stopped by the ${bounds.seconds} s bound`;
        break;
      }
      if (alive.length % 25 === 0 && process.memoryUsage.rss() - before > budget) {
        stopped = `stopped by the ${(budget / 2 ** 30).toFixed(1)} GiB memory bound`;
        break;
      }
      const instance = await subject.start();
      alive.push(instance);
      await instance.call(SMALL_INPUT);
    }
  } catch (error) {
    stopped = `stopped by an error: ${error instanceof Error ? error.message : String(error)}`;
  }
  const seconds = (performance.now() - started) / 1000;
  const perSandbox = (process.memoryUsage.rss() - before) / Math.max(1, alive.length) / 1024;
  for (const instance of alive) await instance.stop();
  const note = `${stopped}, in ${seconds.toFixed(1)} s, ${(perSandbox / 1024).toFixed(2)} MiB RSS each`;
  return [{ ...summarise(METRIC.alive, subject.name, "sandboxes", [alive.length]), note }];
}
