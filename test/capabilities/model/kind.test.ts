// The model kind through the kernel's gate (specs, budgets, attenuation, audit, keys) and through real
// sandboxes: a tool granted a model handle calls it like any other handle, on every JS engine.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { AuditLog, MemoryAuditSink } from "../../../runtime/audit.ts";
import { createModelKind, type ModelKindOptions } from "../../../runtime/capabilities/model/index.ts";
import type { CapabilityKind } from "../../../runtime/capabilities/types.ts";
import type { WardenError } from "../../../runtime/errors.ts";
import { createRuntime, type Runtime } from "../../../runtime/index.ts";
import { Kernel } from "../../../runtime/kernel.ts";
import { failure } from "../../support/failure.ts";
import { anthropicBody, startFakeAnthropic } from "../../support/fake-anthropic.ts";
import type { FakeServer } from "../../support/fake-http.ts";
import {
  OPENAI_TEST_KEY,
  openaiBaseURL,
  openaiBody,
  openaiError,
  startFakeOpenAI,
} from "../../support/fake-openai.ts";
import { runningSandbox } from "../../support/kernel.ts";
import { ENGINES, tempDir, writeTool } from "../../support/tools.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "../../..");

let openai: FakeServer;
let anthropic: FakeServer;
beforeAll(async () => {
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic();
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});

const env = () => ({ OPENAI_API_KEY: OPENAI_TEST_KEY, OPENAI_BASE_URL: openaiBaseURL(openai) });
const hello = { messages: [{ role: "user", content: "hi" }] };

function gate(options: ModelKindOptions = {}) {
  const sink = new MemoryAuditSink();
  const kind = createModelKind({ env: env(), ...options }) as CapabilityKind;
  const kernel = new Kernel({ kinds: [kind], audit: new AuditLog([sink]) });
  const sb = runningSandbox(kernel, "tester");
  const give = async (spec: string) => {
    const { kind: k, grant } = kernel.parseSpec(spec, { cwd: REPO, owner: "tester" });
    return kernel.grant(sb, "llm", k, grant);
  };
  return { kernel, sb, sink, give };
}

describe("grant specs", () => {
  const kind = createModelKind({ prices: { "gpt-x": { input: 1, output: 2 } } });
  const parse = (spec: string) => kind.parseSpec(spec, { cwd: "/work" });

  test("each provider, with options; formatSpec gives back what parses to the same grant", () => {
    for (const spec of [
      "openai:gpt-x",
      "anthropic:claude-x;maxTokens=512;totalTokens=10000;rpm=5",
      "openai:gpt-x;totalCost=0.5;params=temperature;baseURL=http://127.0.0.1:8080/v1",
      "openai:llama3:8b",
      "scripted:./script.yaml",
    ]) {
      const grant = parse(spec);
      expect(kind.parseSpec(kind.formatSpec(grant).slice("model:".length), { cwd: "/work" })).toEqual(grant);
    }
    expect(parse("openai:llama3:8b").scope.models).toEqual(["llama3:8b"]);
    expect(parse("scripted:./s.yaml").scope).toMatchObject({
      provider: "scripted",
      script: { path: "/work/s.yaml" },
    });
    expect(kind.describe(parse("scripted:./s.yaml"))).toContain("not a real model");
  });

  test.each([
    ["", "names no provider"],
    ["gemini:x", "names no provider"],
    ["openai:", "names no model"],
    ["openai:gpt-x;maxTokens=lots", "maxTokens"],
    ["openai:gpt-x;params=seed", "params"],
    ["openai:gpt-x;colour=red", "colour"],
    ["scripted:./s.yaml;baseURL=http://x", "no base URL"],
    ["openai:gpt-x;baseURL=http://user:sk-secret@127.0.0.1/v1", "carries no credentials"],
    ["complete:gemini:x", "names no provider"],
  ])("%j is USAGE (%s)", (spec, words) => {
    const error = (() => {
      try {
        parse(spec);
      } catch (e) {
        return e as WardenError;
      }
      throw new Error("parsed");
    })();
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain(words);
  });

  test("the right may be written out before the provider, as other kinds write theirs", () => {
    expect(parse("complete:openai:gpt-x;maxTokens=9")).toEqual(parse("openai:gpt-x;maxTokens=9"));
  });

  test("the audit form names provider, models and limits, never the script's path or the base URL", () => {
    expect(kind.auditForm(parse("scripted:/home/op/private/s.yaml;totalTokens=50"))).toBe(
      "model:scripted;totalTokens=50",
    );
    expect(
      kind.auditForm(parse("openai:gpt-x;maxTokens=9;params=temperature;baseURL=http://10.0.0.7:8080/v1")),
    ).toBe("model:openai:gpt-x;maxTokens=9;params=temperature");
  });

  test("a cost ceiling on a model with no price is refused: it could not be enforced", () => {
    expect(() => parse("openai:gpt-unpriced;totalCost=1")).toThrow(/gpt-unpriced has no price/);
    expect(parse("openai:gpt-x;totalCost=1").scope.totalCost).toBe(1);
  });
});

describe("through the gate", () => {
  test("a completion comes back; the audit has provider, model, tokens, cost and duration, never content or key", async () => {
    const { kernel, sb, sink, give } = gate({ prices: { "gpt-x": { input: 1_000_000, output: 2_000_000 } } });
    const fd = await give("model:openai:gpt-x");
    openai.reply({ json: openaiBody({ text: "secret answer", usage: { input: 3, output: 4 } }) });
    const out = (await kernel.invoke(sb, fd, "complete", {
      messages: [{ role: "user", content: "secret question" }],
    })) as {
      message: { content: string };
    };
    expect(out.message.content).toBe("secret answer");
    const result = sink.records.find((r) => r.event === "result");
    expect(result).toMatchObject({
      op: "complete",
      decision: "allow",
      detail: { provider: "openai", model: "gpt-test", inputTokens: 3, outputTokens: 4, cost: 11 },
    });
    expect(typeof result?.detail?.durationMs).toBe("number");
    const all = JSON.stringify(sink.records);
    expect(all).not.toContain("secret");
    expect(all).not.toContain(OPENAI_TEST_KEY);
  });

  test("a provider's refusal reaches the guest as MODEL_ERROR, audited as an error with its duration", async () => {
    const { kernel, sb, sink, give } = gate();
    const fd = await give("model:openai:gpt-x");
    openai.reply(openaiError(400, `bad request from ${OPENAI_TEST_KEY}`));
    const error = await failure(kernel.invoke(sb, fd, "complete", hello));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).not.toContain(OPENAI_TEST_KEY);
    const record = sink.records.at(-1)!;
    expect(record).toMatchObject({
      decision: "error",
      code: "MODEL_ERROR",
      detail: { inputTokens: 0, outputTokens: 0 },
    });
    expect(JSON.stringify(sink.records)).not.toContain(OPENAI_TEST_KEY);
  });

  test("maxTokens over the per-call budget is refused before anything is sent", async () => {
    const { kernel, sb, give } = gate();
    const fd = await give("model:openai:gpt-x;maxTokens=100");
    const before = openai.received.length;
    const error = await failure(kernel.invoke(sb, fd, "complete", { ...hello, maxTokens: 101 }));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("maxTokensPerCall budget (100)");
    expect(openai.received.length).toBe(before);
  });

  test("total tokens: reserved before sending, settled from usage, then refused naming the budget", async () => {
    const { kernel, sb, give } = gate();
    const fd = await give("model:openai:gpt-x;maxTokens=50;totalTokens=120");
    openai.reply({ json: openaiBody({ text: "a", usage: { input: 40, output: 30 } }) });
    await kernel.invoke(sb, fd, "complete", hello); // reserves ~55, settles at 70
    const before = openai.received.length;
    const error = await failure(kernel.invoke(sb, fd, "complete", hello)); // 70 + ~55 > 120
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("totalTokens budget (120)");
    expect(openai.received.length).toBe(before);
    // A smaller call still fits.
    openai.reply({ json: openaiBody({ text: "b", usage: { input: 5, output: 5 } }) });
    await kernel.invoke(sb, fd, "complete", { ...hello, maxTokens: 10 });
  });

  test("total cost: max tokens times the price is reserved, and a call that could pass the ceiling is refused", async () => {
    const { kernel, sb, give } = gate({ prices: { "gpt-x": { input: 0, output: 10_000 } } }); // 1 cent a token out
    const fd = await give("model:openai:gpt-x;maxTokens=100;totalCost=1.5");
    openai.reply({ json: openaiBody({ text: "a", usage: { input: 1, output: 60 } }) });
    await kernel.invoke(sb, fd, "complete", hello); // reserves $1, settles at $0.60
    const error = await failure(kernel.invoke(sb, fd, "complete", hello)); // 0.6 + 1 > 1.5
    expect(error.message).toContain("totalCost budget ($1.5)");
    openai.reply({ json: openaiBody({ text: "b", usage: { input: 1, output: 10 } }) });
    await kernel.invoke(sb, fd, "complete", { ...hello, maxTokens: 80 });
  });

  test("requests per minute", async () => {
    const { kernel, sb, give } = gate();
    const fd = await give("model:openai:gpt-x;rpm=2");
    openai.reply({ json: openaiBody({ text: "a" }) }, { json: openaiBody({ text: "b" }) });
    await kernel.invoke(sb, fd, "complete", hello);
    await kernel.invoke(sb, fd, "complete", hello);
    const error = await failure(kernel.invoke(sb, fd, "complete", hello));
    expect(error.message).toContain("requestsPerMinute budget (2)");
  });

  test("parameters and models the grant does not allow are CAPABILITY_DENIED", async () => {
    const { kernel, sb, give } = gate();
    const fd = await give("model:openai:gpt-x,gpt-y;params=maxTokens");
    const denied = await failure(kernel.invoke(sb, fd, "complete", { ...hello, temperature: 1 }));
    expect(denied.code).toBe("CAPABILITY_DENIED");
    expect(denied.message).toContain('"temperature"');
    const fd2 = await give("model:openai:gpt-x,gpt-y");
    const model = await failure(kernel.invoke(sb, fd2, "complete", { ...hello, model: "gpt-z" }));
    expect(model.message).toContain('model "gpt-z" is not one of');
    openai.reply({ json: openaiBody({ text: "y" }) });
    await kernel.invoke(sb, fd2, "complete", { ...hello, model: "gpt-y" });
    expect(openai.received.at(-1)?.body).toMatchObject({ model: "gpt-y" });
  });

  test("attenuate narrows: fewer tokens, a lower ceiling, a subset of models; never wider; the child draws on the parent", async () => {
    const { kernel, sb, give } = gate();
    const fd = await give("model:openai:gpt-x,gpt-y;totalTokens=1000");
    const wider = await failure(kernel.attenuate(sb, fd, { models: ["gpt-z"] }));
    expect(wider.code).toBe("CAPABILITY_DENIED");
    const child = await kernel.attenuate(sb, fd, {
      models: ["gpt-y"],
      maxTokensPerCall: 20,
      totalTokens: 5000,
    });
    const handle = sb.table.get(child)!;
    expect(handle.grant.scope).toMatchObject({ models: ["gpt-y"], maxTokensPerCall: 20, totalTokens: 1000 });
    expect((await failure(kernel.invoke(sb, child, "complete", { ...hello, model: "gpt-x" }))).code).toBe(
      "CAPABILITY_DENIED",
    );
    openai.reply({ json: openaiBody({ text: "a", usage: { input: 500, output: 400 } }) });
    await kernel.invoke(sb, child, "complete", hello);
    // The parent's budget was charged the child's 900 tokens.
    expect(
      (await failure(kernel.invoke(sb, fd, "complete", { ...hello, maxTokens: 200 }))).message,
    ).toContain("totalTokens budget (1000)");
  });

  test("the tool call's end aborts the model's HTTP request", async () => {
    const { kernel, sb, give } = gate();
    const fd = await give("model:openai:gpt-x");
    const aborted = openai.aborted;
    openai.reply({ hang: true });
    const call = kernel.invoke(sb, fd, "complete", hello);
    await expect.poll(() => openai.received.at(-1)?.body).toMatchObject({ model: "gpt-x" });
    kernel.endRun(sb);
    expect((await failure(call)).code).toBe("LIMIT_EXCEEDED");
    await expect.poll(() => openai.aborted).toBeGreaterThan(aborted);
  });

  test("anthropic is granted the same way, its key from ANTHROPIC_API_KEY", async () => {
    const { kernel, sb } = gate({
      env: { ANTHROPIC_API_KEY: "sk-ant-test-0123456789abcdef", ANTHROPIC_BASE_URL: anthropic.url },
    });
    const { kind, grant } = kernel.parseSpec("model:anthropic:claude-x", { cwd: REPO });
    const fd = await kernel.grant(sb, "llm", kind, grant);
    anthropic.reply({ json: anthropicBody({ text: "hello from claude" }) });
    const out = (await kernel.invoke(sb, fd, "complete", hello)) as {
      provider: string;
      message: { content: string };
    };
    expect(out).toMatchObject({ provider: "anthropic", message: { content: "hello from claude" } });
  });

  test("the scripted model: each run of a tool is a session that starts at the first turn", async () => {
    const dir = tempDir("warden-model-");
    writeFileSync(join(dir, "s.yaml"), "tester:\n  - text: one\n  - text: two\n");
    const { kernel, sb } = gate();
    const { kind, grant } = kernel.parseSpec("model:scripted:./s.yaml", { cwd: dir });
    const fd = await kernel.grant(sb, "llm", kind, grant);
    const text = async () =>
      ((await kernel.invoke(sb, fd, "complete", hello)) as { message: { content: string } }).message.content;
    expect([await text(), await text()]).toEqual(["one", "two"]);
    const error = await failure(kernel.invoke(sb, fd, "complete", hello));
    expect(error.message).toBe(
      'scripted model (s.yaml), agent "tester" has no turn 3: the script gives it 2',
    );
    kernel.endRun(sb);
    kernel.beginRun(sb);
    expect(await text()).toBe("one");
  });
});

describe.each(ENGINES)("a tool granted a model handle (%s)", (engine) => {
  let runtime: Runtime;
  afterEach(async () => runtime?.close());

  test("the summarise example runs through the real kernel with the scripted model", async () => {
    runtime = createRuntime({ cwd: REPO, isolation: "in-process" });
    const tool = await runtime.loadTool("examples/tools/summarise.ts", {
      backend: engine,
      grants: { files: "fs:read:examples/data", model: "model:scripted:examples/scripts/summarise.yaml" },
    });
    expect(await tool.call({ path: "hello.txt" })).toEqual({
      summary: "A greeting from Warden.",
      model: "scripted:scripted",
      tokens: 36,
    });
    const result = runtime.auditRecords.find((r) => r.event === "result");
    expect(result).toMatchObject({
      tool: "summarise",
      kind: "model",
      detail: { provider: "scripted", inputTokens: 30 },
    });
    // A second call is a new session: it starts at the first turn again.
    expect(await tool.call({ path: "hello.txt" })).toMatchObject({ summary: "A greeting from Warden." });
  });

  test("a failed expect reaches the tool as MODEL_ERROR it can catch; no key is in the sandbox", async () => {
    const dir = tempDir("warden-model-");
    writeFileSync(join(dir, "s.yaml"), "asker:\n  - expect: never\n    text: x\n");
    runtime = createRuntime({ cwd: dir, isolation: "in-process", env: env() });
    const file = writeTool(dir, {
      name: "asker",
      capabilities: { llm: { type: "model" } },
      run: `
        let code;
        try { await caps.llm.complete({ messages: [{ role: "user", content: "hi" }] }); } catch (e) { code = e.code + ": " + e.message; }
        return { code, keys: Object.keys(caps.llm).sort(), env: typeof process };
      `,
    });
    const tool = await runtime.loadTool(file, {
      backend: engine,
      grants: { llm: "model:scripted:./s.yaml" },
    });
    expect(await tool.call({})).toEqual({
      code: 'MODEL_ERROR: scripted model (s.yaml), agent "asker", turn 1: the newest message does not contain "never"',
      keys: ["attenuate", "complete", "kind", "rights"],
      env: "undefined",
    });
  });

  test("a tool calls a real provider's wire through the gate, and a narrowed handle keeps its budget", async () => {
    const dir = tempDir("warden-model-");
    runtime = createRuntime({ cwd: dir, isolation: "in-process", env: env() });
    const file = writeTool(dir, {
      capabilities: { llm: { type: "model" } },
      run: `
        const small = await caps.llm.attenuate({ maxTokensPerCall: 10 });
        let refused;
        try { await small.complete({ messages: [{ role: "user", content: "hi" }], maxTokens: 11 }); } catch (e) { refused = e.code; }
        const answer = await caps.llm.complete({ messages: [{ role: "user", content: "hi" }], tools: [{ name: "read-file", parameters: { type: "object" } }] });
        return { refused, calls: answer.message.toolCalls, stop: answer.stopReason };
      `,
    });
    const tool = await runtime.loadTool(file, { backend: engine, grants: { llm: "model:openai:gpt-x" } });
    openai.reply({
      json: openaiBody({ calls: [{ id: "call_a", name: "read-file", arguments: { path: "x" } }] }),
    });
    expect(await tool.call({})).toEqual({
      refused: "LIMIT_EXCEEDED",
      calls: [{ id: "call_a", name: "read-file", arguments: { path: "x" } }],
      stop: "tool_calls",
    });
    expect(JSON.stringify(runtime.auditRecords)).not.toContain(OPENAI_TEST_KEY);
  });

  test("a grant's key can be a kernel secret: the runtime's secret store supplies it, no sandbox sees it", async () => {
    const dir = tempDir("warden-model-");
    writeFileSync(join(dir, "openai.key"), `${OPENAI_TEST_KEY}\n`);
    runtime = createRuntime({
      cwd: dir,
      isolation: "in-process",
      // No OPENAI_API_KEY here: the only way the fake server's key can arrive is the secret.
      env: { OPENAI_BASE_URL: openaiBaseURL(openai) },
      secrets: { openai: { file: "openai.key" } },
    });
    const file = writeTool(dir, {
      capabilities: { llm: { type: "model" } },
      run: `
        const answer = await caps.llm.complete({ messages: [{ role: "user", content: "hi" }] });
        return { text: answer.message.content, seen: JSON.stringify(caps.llm) };
      `,
    });
    const tool = await runtime.loadTool(file, {
      backend: engine,
      grants: { llm: "model:openai:gpt-x;key=secret:openai" },
    });
    openai.reply({ json: openaiBody({ text: "hello" }) });
    const result = (await tool.call({})) as { text: string; seen: string };
    expect(result.text).toBe("hello");
    expect(result.seen).not.toContain(OPENAI_TEST_KEY);
    expect(JSON.stringify(runtime.auditRecords)).not.toContain(OPENAI_TEST_KEY);
  });
});
