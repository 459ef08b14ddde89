// QuickJS next to V8, backend against backend (no kernel): cold start in a fresh process, sandbox start,
// warm call, CPU-bound work and idle memory. Run: node bench/quickjs.ts [--quick]. Figures vary by machine;
// compare them only within one run.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Backend, Limits, Sandbox } from "../runtime/isolates/types.ts";

const ECHO = fileURLToPath(new URL("tools/echo.js", import.meta.url));
const LIMITS: Limits = { timeoutMs: 10_000, cpuMs: 5_000, memoryMb: 64, outputKb: 1024 };
const hostCall = async () => '{"ok":true,"value":null}';
const quick = process.argv.includes("--quick");

const WORK = `import { defineTool, z } from "warden/sdk";
export default defineTool({ name: "work", description: "CPU-bound work", input: z.object({ n: z.number() }),
  output: z.object({ r: z.number() }), async run({ n }) { const fib = (k) => (k < 2 ? k : fib(k - 1) + fib(k - 2)); return { r: fib(n) }; } });`;

async function backend(name: string): Promise<Backend> {
  if (name === "quickjs") return (await import("../runtime/isolates/quickjs/index.ts")).quickjsBackend;
  return (await import("../runtime/isolates/v8/index.ts")).v8Backend;
}

async function start(
  b: Backend,
  source = readFileSync(ECHO, "utf8"),
): Promise<{ sb: Sandbox; schema: string }> {
  const sb = await b.create({ limits: LIMITS, hostCall });
  const d = (await sb.load({ source, filename: "tool.js" })) as { outputSchema: unknown };
  return { sb, schema: JSON.stringify(d.outputSchema) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** In a child process: from importing the backend to the first call's answer, in ms. */
async function coldChild(name: string): Promise<void> {
  const t = performance.now();
  const { sb, schema } = await start(await backend(name));
  await sb.run('{"data":"hello"}', "{}", schema);
  process.stdout.write(String(performance.now() - t));
  process.exit(0);
}

async function measure(name: string): Promise<Record<string, string>> {
  const cold: number[] = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--cold", name], {
      encoding: "utf8",
    });
    cold.push(Number(out));
  }
  const b = await backend(name);
  await start(b); // warms the engine (the image, the snapshot) and the code paths
  const starts: number[] = [];
  for (let i = 0; i < (quick ? 10 : 50); i++) {
    const t = performance.now();
    const { sb, schema } = await start(b);
    await sb.run('{"data":"hello"}', "{}", schema);
    starts.push(performance.now() - t);
    await sb.dispose();
  }
  const { sb, schema } = await start(b);
  const calls: number[] = [];
  for (let i = 0; i < (quick ? 200 : 2000); i++) {
    const t = performance.now();
    await sb.run('{"data":"hello"}', "{}", schema);
    calls.push(performance.now() - t);
  }
  const work = await start(b, WORK);
  const fib: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await work.sb.run('{"n":24}', "{}", work.schema);
    fib.push(performance.now() - t);
  }
  // Idle memory: resident set growth with N loaded sandboxes that each answered one call.
  const n = quick ? 20 : 100;
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const alive: Sandbox[] = [];
  for (let i = 0; i < n; i++) {
    const s = await start(b);
    await s.sb.run('{"data":"hello"}', "{}", s.schema);
    alive.push(s.sb);
  }
  globalThis.gc?.();
  const perSandbox = (process.memoryUsage().rss - before) / n;
  for (const s of alive) await s.dispose();
  return {
    backend: name,
    "cold start (fresh process, ms)": median(cold).toFixed(1),
    "sandbox start + first call (ms)": median(starts).toFixed(2),
    "warm call (µs)": (median(calls) * 1000).toFixed(0),
    "fib(24) (ms)": median(fib).toFixed(1),
    "idle RSS per sandbox (KiB)": (perSandbox / 1024).toFixed(0),
  };
}

if (process.argv[2] === "--cold") await coldChild(process.argv[3]!);
else {
  const rows = [await measure("v8"), await measure("quickjs")];
  console.table(rows);
}
