// Test helper: a sandbox record in the running state, as the kernel sees one while its tool runs.
import type { Kernel, SandboxRecord } from "../../runtime/kernel.ts";

export function runningSandbox(kernel: Kernel, tool: string): SandboxRecord {
  const sb = kernel.createSandbox(tool);
  kernel.beginRun(sb);
  return sb;
}
