// Cancelling a running session ends its sandbox at once (not at its wall time) and marks it cancelled; so does
// the caller's abort signal. A cancelled session cannot be resumed.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Runtime } from "../../runtime/runtime.ts";
import { readerRuntime } from "../support/agents.ts";
import { tempDir } from "../support/tools.ts";

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

async function waitingAgent(backend: string): Promise<Runtime> {
  const dir = tempDir();
  const r = await readerRuntime(dir, { backend });
  const file = join(dir, "waits.js");
  writeFileSync(
    file,
    `import { defineAgent } from "warden/sdk";
export default defineAgent({ name: "waits", async run(task, caps) { await caps.conversation.read(); await new Promise(() => {}); } });`,
  );
  r.agents.define({
    name: "waits",
    instructions: "Wait.",
    model: `scripted:${join(dir, "reader.script.yaml")}`,
    source: file,
    backend,
    limits: { wallMs: 120_000 },
  });
  return r;
}

async function runningSession(r: Runtime): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const [first] = await r.agents.list();
    if (first && r.agents.live(first.session)) return first.session;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("no session started");
}

describe.each(["v8:in-process", "quickjs:in-process", "v8:cell"])("cancel on %s", (backend) => {
  it("cancel ends a running session at once and marks it cancelled", async () => {
    runtime = await waitingAgent(backend);
    const started = Date.now();
    const run = runtime.agents.run("waits", { task: "wait" }).catch((e: unknown) => e);
    const session = await runningSession(runtime);
    await runtime.agents.cancel(session);
    expect(await run).toMatchObject({ code: "LIMIT_EXCEEDED", message: "the session was cancelled" });
    // Far below the two-minute wall time the program had.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((await runtime.agents.show(session)).status).toBe("cancelled");
    expect(runtime.agents.live(session)).toBeUndefined();
    await expect(runtime.agents.resume(session)).rejects.toThrow(/was cancelled/);
  });

  it("the caller's abort signal cancels too", async () => {
    runtime = await waitingAgent(backend);
    const controller = new AbortController();
    const run = runtime.agents
      .run("waits", { task: "wait" }, { signal: controller.signal })
      .catch((e: unknown) => e);
    const session = await runningSession(runtime);
    controller.abort(new Error("caller gave up"));
    expect(await run).toMatchObject({ code: "LIMIT_EXCEEDED", message: "the session was cancelled" });
    expect((await runtime.agents.show(session)).status).toBe("cancelled");
  });
});
