// The measurements: cold start, warm calls, capability calls, idle memory, and throughput under misbehaviour.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryKvStore } from "../runtime/capabilities/kv/store.ts";
import { createRuntime, type Runtime, WardenError } from "../runtime/index.ts";
import { collect, type Figure, sample, summarise } from "./harness.ts";
import type { Subject } from "./subjects/index.ts";

export interface Sizes {
  cold: number;
  warm: number;
  idle: readonly number[];
  capabilityOps: number;
  throughputMs: number;
}

export const FULL: Sizes = {
  cold: 30,
  warm: 2000,
  idle: [1, 100, 1000],
  capabilityOps: 500,
  throughputMs: 3000,
};
export const QUICK: Sizes = { cold: 3, warm: 50, idle: [1, 10], capabilityOps: 20, throughputMs: 300 };

const SMALL = JSON.stringify({ data: "hello" });
const LARGE = JSON.stringify({ data: "x".repeat(64 * 1024) });

export async function coldStart(subject: Subject, sizes: Sizes): Promise<Figure> {
  const values = await sample(
    async () => {
      const instance = await subject.start();
      await instance.call(SMALL);
      await instance.stop();
    },
    sizes.cold,
    1,
  );
  return summarise("cold start (load, first call, dispose)", subject.name, "ms", values);
}

export async function warmCalls(subject: Subject, sizes: Sizes): Promise<Figure[]> {
  const instance = await subject.start();
  try {
    const small = await sample(() => instance.call(SMALL), sizes.warm, Math.min(100, sizes.warm), 1000);
    const large = await sample(() => instance.call(LARGE), Math.ceil(sizes.warm / 4), 10, 1000);
    return [
      summarise("warm call, small JSON", subject.name, "us", small),
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
      figures.push(
        summarise(
          op === "fs" ? "capability call: fs read of a small file" : "capability call: kv get",
          label,
          "us",
          perOp,
        ),
      );
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
    summarise(
      "capability call: fs read of a small file",
      "host, directly",
      "us",
      await sample(() => readFile(file, "utf8"), n, 20, 1000),
    ),
  );
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
  const what = rogues > 0 ? `, ${rogues} misbehaving tools alongside (${rogueHits} limit hits)` : "";
  return [
    summarise(`throughput, ${concurrency} sandboxes${what}`, subject.name, "calls/s", [
      latencies.length / elapsed,
    ]),
    summarise(`latency under load, ${concurrency} sandboxes${what}`, subject.name, "ms", latencies),
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
