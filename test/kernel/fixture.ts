// The kernel tests' shared world: a Kernel built directly with the host kinds, a temporary directory tree
// (made fresh for each test), and sandboxes that are disposed after each test. Importing it installs the hooks.
import { mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { AuditLog, MemoryAuditSink } from "../../runtime/audit.ts";
import { createClockKind } from "../../runtime/capabilities/clock/index.ts";
import { fsKind } from "../../runtime/capabilities/fs/index.ts";
import { createKvKind } from "../../runtime/capabilities/kv/index.ts";
import { MemoryKvStore } from "../../runtime/capabilities/kv/store.ts";
import { createLogKind } from "../../runtime/capabilities/log/index.ts";
import { createNetKind } from "../../runtime/capabilities/net/index.ts";
import type { CapabilityKind } from "../../runtime/capabilities/types.ts";
import { Kernel, type KernelQuota, type SandboxRecord } from "../../runtime/kernel.ts";
import { runningSandbox } from "../support/kernel.ts";
import { tempDir } from "../support/tools.ts";

export const SECRET = "TOP-SECRET-VALUE-8c1f";
export const NOW = 1234567;

export interface LogLine {
  level: string;
  message: string;
  owner: string;
}

export interface World {
  kernel: Kernel;
  audit: MemoryAuditSink;
  logs: LogLine[];
  /** A kind that counts opens and closes, to see that disposal releases resources. */
  counts: { opened: number; closed: number };
}

export let base: string;
/** base/data: a.txt ("alpha"), sub/b.txt ("beta") */
export let dir: string;
/** base/other: o.txt ("other"); reachable from data's parent only. */
export let other: string;
const sandboxes: { kernel: Kernel; sb: SandboxRecord }[] = [];

beforeEach(() => {
  base = realpathSync(tempDir("warden-kernel-"));
  dir = join(base, "data");
  other = join(base, "other");
  mkdirSync(join(dir, "sub"), { recursive: true });
  mkdirSync(other);
  writeFileSync(join(dir, "a.txt"), "alpha");
  writeFileSync(join(dir, "sub", "b.txt"), "beta");
  writeFileSync(join(other, "o.txt"), "other");
});

afterEach(async () => {
  for (const { kernel, sb } of sandboxes.splice(0)) await kernel.disposeSandbox(sb);
  rmSync(base, { recursive: true, force: true });
});

function countingKind(counts: World["counts"]): CapabilityKind {
  const clock = createClockKind(() => NOW) as CapabilityKind;
  return {
    ...clock,
    kind: "count",
    async open() {
      counts.opened++;
      return { open: true };
    },
    async close() {
      counts.closed++;
    },
  };
}

export function world(quota?: Partial<KernelQuota>): World {
  const audit = new MemoryAuditSink();
  const logs: LogLine[] = [];
  const counts = { opened: 0, closed: 0 };
  const kernel = new Kernel({
    kinds: [
      fsKind as CapabilityKind,
      createKvKind(new MemoryKvStore()) as CapabilityKind,
      createClockKind(() => NOW) as CapabilityKind,
      createLogKind((line) => logs.push(line)) as CapabilityKind,
      createNetKind() as CapabilityKind,
      countingKind(counts),
    ],
    audit: new AuditLog([audit]),
    quota,
  });
  return { kernel, audit, logs, counts };
}

export function sandbox(kernel: Kernel, tool: string): SandboxRecord {
  const sb = runningSandbox(kernel, tool);
  sandboxes.push({ kernel, sb });
  return sb;
}

export async function grant(kernel: Kernel, sb: SandboxRecord, name: string, spec: string): Promise<number> {
  const { kind, grant: g } = kernel.parseSpec(spec, {
    cwd: base,
    owner: sb.tool,
    identity: `/tools/${sb.tool}.js`,
  });
  return kernel.grant(sb, name, kind, g);
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
