// The adapters against local servers that speak each provider's wire format, through the official SDKs:
// one conformance table for every adapter (openai, anthropic, scripted; whole and streamed), then failures.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAnthropicProvider } from "../../../runtime/capabilities/model/anthropic.ts";
import type {
  Completion,
  ProviderRequest,
  StreamEvent,
} from "../../../runtime/capabilities/model/conversation.ts";
import { createOpenAIProvider } from "../../../runtime/capabilities/model/openai.ts";
import type { CallOptions, ModelProvider } from "../../../runtime/capabilities/model/provider.ts";
import { createScriptedProvider, parseScript } from "../../../runtime/capabilities/model/scripted.ts";
import { WardenError } from "../../../runtime/errors.ts";
import { failure } from "../../support/failure.ts";
import {
  ANTHROPIC_TEST_KEY,
  anthropicBody,
  anthropicError,
  anthropicStream,
  startFakeAnthropic,
} from "../../support/fake-anthropic.ts";
import type { FakeServer, Reply } from "../../support/fake-http.ts";
import {
  OPENAI_TEST_KEY,
  openaiBaseURL,
  openaiBody,
  openaiError,
  openaiStream,
  startFakeOpenAI,
} from "../../support/fake-openai.ts";

let openaiServer: FakeServer;
let anthropicServer: FakeServer;
beforeAll(async () => {
  openaiServer = await startFakeOpenAI();
  anthropicServer = await startFakeAnthropic();
});
afterAll(async () => {
  await openaiServer.close();
  await anthropicServer.close();
});

const openai = () =>
  createOpenAIProvider({
    apiKey: OPENAI_TEST_KEY,
    keyVariable: "OPENAI_API_KEY",
    baseURL: openaiBaseURL(openaiServer),
  });
const anthropic = () =>
  createAnthropicProvider({
    apiKey: ANTHROPIC_TEST_KEY,
    keyVariable: "ANTHROPIC_API_KEY",
    baseURL: anthropicServer.url,
  });

async function collect(
  stream: AsyncIterable<StreamEvent>,
): Promise<{ events: StreamEvent[]; completion: Completion }> {
  const events: StreamEvent[] = [];
  for await (const e of stream) events.push(e);
  const last = events.at(-1);
  if (last?.type !== "done") throw new Error("stream did not end with done");
  return { events, completion: last.completion };
}

const request = (extra: Partial<ProviderRequest> = {}): ProviderRequest => ({
  model: "m",
  maxTokens: 100,
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Read hello.txt" },
  ],
  tools: [
    {
      name: "read-file",
      description: "Read a file",
      parameters: { type: "object", properties: { path: { type: "string" } } },
    },
  ],
  ...extra,
});

/** One scenario in neutral words; each adapter is told how to produce it on its own wire. */
interface Scenario {
  name: string;
  text?: string;
  calls?: { id: string; name: string; arguments: Record<string, unknown> }[];
  expectStop: Completion["stopReason"];
}
const SCENARIOS: Scenario[] = [
  { name: "a text answer", text: "The file says hello.", expectStop: "end" },
  {
    name: "one tool call",
    calls: [{ id: "call_1_1", name: "read-file", arguments: { path: "hello.txt" } }],
    expectStop: "tool_calls",
  },
  {
    name: "text and two tool calls",
    text: "Reading both.",
    calls: [
      { id: "call_1_1", name: "read-file", arguments: { path: "a.txt" } },
      { id: "call_1_2", name: "read-file", arguments: { path: "b.txt", nested: { n: [1, 2] } } },
    ],
    expectStop: "tool_calls",
  },
];

interface Subject {
  name: string;
  provider: () => ModelProvider;
  prepare(s: Scenario, stream: boolean): void;
  options?: CallOptions;
  usage: { input: number; output: number };
}
const USAGE = { input: 21, output: 7 };
const SUBJECTS: Subject[] = [
  {
    name: "openai",
    provider: openai,
    usage: USAGE,
    prepare(s, stream) {
      const body = openaiBody({ text: s.text, calls: s.calls, usage: USAGE });
      openaiServer.reply(stream ? { sse: openaiStream(body) } : { json: body });
    },
  },
  {
    name: "anthropic",
    provider: anthropic,
    usage: USAGE,
    prepare(s, stream) {
      const body = anthropicBody({ text: s.text, calls: s.calls, usage: USAGE });
      anthropicServer.reply(stream ? { sse: anthropicStream(body) } : { json: body });
    },
  },
  {
    name: "scripted",
    usage: USAGE,
    options: { agent: "reader", session: "s" },
    provider: () => createScriptedProvider(current),
    prepare(s) {
      current = parseScript(
        JSON.stringify({
          reader: [
            {
              text: s.text ?? "",
              tool_calls: (s.calls ?? []).map((c) => ({ name: c.name, arguments: c.arguments })),
              usage: { input_tokens: USAGE.input, output_tokens: USAGE.output },
            },
          ],
        }),
        "conformance.yaml",
      );
    },
  },
];
let current = parseScript("{}", "empty.yaml");

describe.each(SUBJECTS)("conformance: $name", (subject) => {
  for (const stream of [false, true]) {
    test.each(SCENARIOS)(`${stream ? "streamed" : "whole"}: $name`, async (scenario) => {
      subject.prepare(scenario, stream);
      const provider = subject.provider();
      const completion = stream
        ? (await collect(provider.stream(request(), subject.options))).completion
        : await provider.complete(request(), subject.options);
      expect(completion.provider).toBe(subject.name);
      expect(completion.message.content).toBe(scenario.text ?? "");
      expect(completion.message.toolCalls ?? []).toEqual(scenario.calls ?? []);
      expect(completion.stopReason).toBe(scenario.expectStop);
      expect(completion.usage).toEqual({
        inputTokens: subject.usage.input,
        outputTokens: subject.usage.output,
      });
    });
  }

  test("a stream's text events add up to the completion's text, and each tool call arrives once", async () => {
    const scenario = SCENARIOS[2]!;
    subject.prepare(scenario, true);
    const { events, completion } = await collect(subject.provider().stream(request(), subject.options));
    const text = events.flatMap((e) => (e.type === "text" ? [e.text] : [])).join("");
    expect(text).toBe(completion.message.content);
    expect(events.filter((e) => e.type === "text").length).toBeGreaterThan(1);
    expect(events.flatMap((e) => (e.type === "tool_call" ? [e.call] : []))).toEqual(scenario.calls);
  });
});

describe("what goes on the wire", () => {
  test("openai: key as a bearer token, tools as functions, max_tokens for a compatible server", async () => {
    openaiServer.reply({ json: openaiBody({ text: "ok" }) });
    await openai().complete(request({ temperature: 0.5, stop: ["END"] }));
    const sent = openaiServer.received.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${OPENAI_TEST_KEY}`);
    expect(sent.body).toMatchObject({
      model: "m",
      max_tokens: 100,
      temperature: 0.5,
      stop: ["END"],
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Read hello.txt" },
      ],
      tools: [{ type: "function", function: { name: "read-file" } }],
    });
  });

  test("anthropic: system prompt at the top, max_tokens, tools with input_schema, a version header", async () => {
    anthropicServer.reply({ json: anthropicBody({ text: "ok" }) });
    await anthropic().complete(request({ stop: ["END"] }));
    const sent = anthropicServer.received.at(-1)!;
    expect(sent.headers["anthropic-version"]).toBeTruthy();
    expect(sent.body).toMatchObject({
      model: "m",
      max_tokens: 100,
      system: "Be brief.",
      stop_sequences: ["END"],
      messages: [{ role: "user", content: "Read hello.txt" }],
      tools: [{ name: "read-file", input_schema: { type: "object" } }],
    });
  });
});

/** Failure cases, each on both HTTP adapters. */
const REMOTE = [
  {
    name: "openai",
    server: () => openaiServer,
    provider: openai,
    key: OPENAI_TEST_KEY,
    error: openaiError,
    ok: (): Reply => ({ json: openaiBody({ text: "after retry" }) }),
    stream: () =>
      openaiStream(
        openaiBody({
          text: "a longer streamed answer",
          calls: [{ id: "c1", name: "t", arguments: { a: 1 } }],
        }),
      ),
  },
  {
    name: "anthropic",
    server: () => anthropicServer,
    provider: anthropic,
    key: ANTHROPIC_TEST_KEY,
    error: (status: number, message: string, headers?: Record<string, string>) =>
      anthropicError(status, message, "error", headers),
    ok: (): Reply => ({ json: anthropicBody({ text: "after retry" }) }),
    stream: () =>
      anthropicStream(
        anthropicBody({
          text: "a longer streamed answer",
          calls: [{ id: "c1", name: "t", arguments: { a: 1 } }],
        }),
      ),
  },
] as const;

describe.each(REMOTE)("failures: $name", (r) => {
  test("a 429 waits what retry-after says, then the call succeeds", async () => {
    r.server().reply(r.error(429, "slow down", { "retry-after": "1" }), r.ok());
    const started = Date.now();
    const completion = await r.provider().complete(request());
    expect(completion.message.content).toBe("after retry");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test("5xx is retried with backoff, a bounded number of times", async () => {
    r.server().reply(r.error(503, "overloaded"), r.error(500, "oops"), r.ok());
    expect((await r.provider().complete(request())).message.content).toBe("after retry");
    const before = r.server().received.length;
    r.server().reply(...Array.from({ length: 4 }, () => r.error(500, "down")));
    const error = await failure(r.provider().complete(request()));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toContain("HTTP 500");
    expect(r.server().received.length - before).toBe(4);
  });

  test("a retry-after past the call's deadline is not waited for", async () => {
    r.server().reply(r.error(429, "slow down", { "retry-after": "30" }));
    const started = Date.now();
    const error = await failure(r.provider().complete(request(), { deadline: Date.now() + 2000 }));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toMatch(/HTTP 429.*deadline/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test("another 4xx is MODEL_ERROR with the provider's message and no key, not retried", async () => {
    const before = r.server().received.length;
    r.server().reply(r.error(400, `model m does not exist (key ${r.key})`));
    const error = await failure(r.provider().complete(request()));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toContain("HTTP 400");
    expect(error.message).toContain("does not exist");
    expect(error.message).not.toContain(r.key);
    expect(JSON.stringify(error.cause instanceof Error ? error.cause.message : "")).not.toContain(r.key);
    expect(r.server().received.length - before).toBe(1);
  });

  test("a wrong key is MODEL_ERROR and the message does not echo it", async () => {
    const provider =
      r.name === "openai"
        ? createOpenAIProvider({
            apiKey: "sk-wrong-key-abcdef123456",
            keyVariable: "X",
            baseURL: openaiBaseURL(openaiServer),
          })
        : createAnthropicProvider({
            apiKey: "sk-wrong-key-abcdef123456",
            keyVariable: "X",
            baseURL: anthropicServer.url,
          });
    const error = await failure(provider.complete(request()));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toContain("HTTP 401");
    expect(error.message).not.toContain("wrong-key");
  });

  test("no key at all is MODEL_ERROR naming the variable to set, and nothing is sent", async () => {
    const before = r.server().received.length;
    const provider =
      r.name === "openai"
        ? createOpenAIProvider({
            apiKey: undefined,
            keyVariable: "OPENAI_API_KEY",
            baseURL: openaiBaseURL(openaiServer),
          })
        : createAnthropicProvider({
            apiKey: undefined,
            keyVariable: "ANTHROPIC_API_KEY",
            baseURL: anthropicServer.url,
          });
    const error = await failure(provider.complete(request()));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toMatch(/_API_KEY/);
    expect(r.server().received.length).toBe(before);
  });

  test.each([
    ["a body that is not JSON", { raw: "{not json", status: 200 }],
    ["JSON of the wrong shape", { json: { hello: "world" } }],
    ["an HTML error page", { raw: "<html>bad gateway</html>", status: 200, contentType: "text/html" }],
  ] as const)("%s is MODEL_ERROR, never INTERNAL", async (_name, reply) => {
    r.server().reply(reply as Reply);
    const error = await failure(r.provider().complete(request()));
    expect(error.code).toBe("MODEL_ERROR");
  });

  test("a stream cut off mid-way is MODEL_ERROR", async () => {
    r.server().reply({ sse: r.stream(), cutAfter: 4 });
    const error = await failure(collect(r.provider().stream(request())));
    expect(error.code).toBe("MODEL_ERROR");
  });

  test("a stream that ends cleanly but early (no finish) is MODEL_ERROR", async () => {
    const events = r.stream();
    r.server().reply({ sse: events.slice(0, 4) });
    const error = await failure(collect(r.provider().stream(request())));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toContain("ended before the response was complete");
  });

  test("a malformed event mid-stream is MODEL_ERROR", async () => {
    const events = r.stream();
    events.splice(3, 0, {
      event: r.name === "anthropic" ? "content_block_delta" : undefined,
      data: "{broken",
    });
    r.server().reply({ sse: events });
    const error = await failure(collect(r.provider().stream(request())));
    expect(error.code).toBe("MODEL_ERROR");
  });

  test("tool call arguments that are not JSON are MODEL_ERROR", async () => {
    // The second half of the arguments, `":1}`, loses its value: `{"a":}` is not JSON.
    const events = r.stream().map((e) => ({ ...e, data: e.data.replace(':1}"', ':}"') }));
    r.server().reply({ sse: events });
    const error = await failure(collect(r.provider().stream(request())));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toContain("not JSON");
  });

  test("a slow stream past the call's deadline is MODEL_ERROR, and the request is dropped", async () => {
    const aborted = r.server().aborted;
    r.server().reply({ sse: r.stream(), delayMs: 300 });
    const error = await failure(collect(r.provider().stream(request(), { deadline: Date.now() + 800 })));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toContain("deadline");
    await expect.poll(() => r.server().aborted).toBeGreaterThan(aborted);
  });

  test("cancelling aborts the HTTP request and surfaces the canceller's reason", async () => {
    const aborted = r.server().aborted;
    r.server().reply({ hang: true });
    const controller = new AbortController();
    const call = r.provider().complete(request(), { signal: controller.signal });
    await expect.poll(() => r.server().received.length > 0 && r.server().aborted === aborted).toBe(true);
    setTimeout(() => controller.abort(new WardenError("LIMIT_EXCEEDED", "the tool call ended")), 100);
    const error = await failure(call);
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toBe("the tool call ended");
    await expect.poll(() => r.server().aborted).toBeGreaterThan(aborted);
  });
});

describe("the scripted model", () => {
  const script = parseScript(
    `reader:
  - tool_calls:
      - { name: read-file, arguments: { path: hello.txt } }
  - expect: "Hello from Warden"
    text: "The file says hello."
`,
    "script.yaml",
  );
  const ask = (content: string): ProviderRequest => ({
    model: "scripted",
    maxTokens: 10,
    messages: [{ role: "user", content }],
  });

  test("each session takes its own next turn, from the first", async () => {
    const model = createScriptedProvider(script);
    const a1 = await model.complete(ask("go"), { agent: "reader", session: "a" });
    expect(a1.message.toolCalls).toEqual([
      { id: "call_1_1", name: "read-file", arguments: { path: "hello.txt" } },
    ]);
    const b1 = await model.complete(ask("go"), { agent: "reader", session: "b" });
    expect(b1).toEqual(a1);
    const a2 = await model.complete(ask("It says: Hello from Warden!"), { agent: "reader", session: "a" });
    expect(a2).toMatchObject({ provider: "scripted", model: "scripted", stopReason: "end" });
    expect(a2.message.content).toBe("The file says hello.");
  });

  test("running out of turns is MODEL_ERROR naming the file, the agent and the turn", async () => {
    const model = createScriptedProvider(script);
    await model.complete(ask("go"), { agent: "reader", session: "a" });
    await model.complete(ask("Hello from Warden"), { agent: "reader", session: "a" });
    const error = await failure(model.complete(ask("more"), { agent: "reader", session: "a" }));
    expect(error.code).toBe("MODEL_ERROR");
    expect(error.message).toBe(
      'scripted model (script.yaml), agent "reader" has no turn 3: the script gives it 2',
    );
  });

  test("an expect that does not match is MODEL_ERROR naming the turn", async () => {
    const model = createScriptedProvider(script);
    await model.complete(ask("go"), { agent: "reader", session: "a" });
    const error = await failure(model.complete(ask("something else"), { agent: "reader", session: "a" }));
    expect(error.message).toBe(
      'scripted model (script.yaml), agent "reader", turn 2: the newest message does not contain "Hello from Warden"',
    );
  });

  test("an agent the script does not name is MODEL_ERROR listing the ones it does", async () => {
    const error = await failure(
      createScriptedProvider(script).complete(ask("go"), { agent: "writer", session: "a" }),
    );
    expect(error.message).toBe(
      'scripted model (script.yaml), agent "writer" has no turns: the script names "reader"',
    );
  });

  test("a replayed session asks for its turn by number, statelessly", () => {
    expect(script.respond("reader", 1, ask("Hello from Warden").messages).message.content).toBe(
      "The file says hello.",
    );
  });

  test("a file that is not a script is USAGE naming it", () => {
    expect(() => parseScript("reader: [{ txt: 1 }]", "bad.yaml")).toThrow(
      /scripted model bad.yaml is not a script/,
    );
    expect(() => parseScript("reader: [", "bad.yaml")).toThrow(/bad.yaml is not YAML or JSON/);
  });
});
