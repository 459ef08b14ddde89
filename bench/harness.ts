// Timing and statistics for the bench suite: samples, percentiles, and a description of the machine.
import { cpus, totalmem } from "node:os";

export interface Figure {
  /** What was measured, e.g. "warm call (small)". */
  metric: string;
  /** Who was measured, e.g. "warden v8" or "bare isolated-vm". */
  subject: string;
  unit: "ms" | "us" | "KiB" | "calls/s" | "sandboxes";
  samples: number;
  median: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
  /** What a reader needs besides the numbers (why a bounded run stopped, how often rogues hit limits). */
  note?: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export function summarise(metric: string, subject: string, unit: Figure["unit"], values: number[]): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    metric,
    subject,
    unit,
    samples: sorted.length,
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/**
 * Times `fn` `samples` times after `warmup` untimed runs. Runs are sequential: each sample is one
 * operation's latency, not a throughput figure.
 */
export async function sample(
  fn: () => Promise<unknown>,
  samples: number,
  warmup: number,
  scale = 1,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    await fn();
    out.push((Number(process.hrtime.bigint() - start) / 1e6) * scale);
  }
  return out;
}

/** Forces a full GC where Node allows it (run with --expose-gc), so memory figures are not noise. */
export function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}
