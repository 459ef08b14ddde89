// A session's conversation moves between models: started on the scripted model, resumed on OpenAI, then on
// Anthropic, then back on the scripted model, each provider sent the whole journaled conversation in its own
// wire format (local fake servers), and the session answers.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../runtime/runtime.ts";
import { readerRuntime } from "../support/agents.ts";
import {
  ANTHROPIC_TEST_KEY,
  anthropicBody,
  anthropicError,
  startFakeAnthropic,
} from "../support/fake-anthropic.ts";
import type { FakeServer } from "../support/fake-http.ts";
import {
  OPENAI_TEST_KEY,
  openaiBaseURL,
  openaiBody,
  openaiError,
  startFakeOpenAI,
} from "../support/fake-openai.ts";
import { tempDir } from "../support/tools.ts";

let openai: FakeServer;
let anthropic: FakeServer;
let runtime: Runtime | undefined;
beforeAll(async () => {
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic();
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("resume on another provider", () => {
  it("scripted, then OpenAI, then Anthropic, then scripted again: one conversation, each in its own format", async () => {
    const dir = tempDir();
    const first = `reader:\n  - tool_calls: [{ name: read-note, arguments: { name: a } }]\n`;
    runtime = await readerRuntime(dir, {
      script: first,
      runtime: { env: { OPENAI_API_KEY: OPENAI_TEST_KEY, ANTHROPIC_API_KEY: ANTHROPIC_TEST_KEY } },
    });
    const failed = await runtime.agents
      .run("reader", { task: "Read notes a, b and c." })
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: "MODEL_ERROR" });
    const session = (await runtime.agents.list())[0]!.session;

    // OpenAI calls count, then fails its next turn (a 400 is not retried).
    openai.reply(
      { json: openaiBody({ calls: [{ id: "call_oa", name: "count", arguments: { text: "hello" } }] }) },
      openaiError(400, "context problem"),
    );
    await expect(
      runtime.agents.resume(session, { model: `openai:gpt-test;baseURL=${openaiBaseURL(openai)}` }),
    ).rejects.toMatchObject({ code: "MODEL_ERROR" });
    const sent = openai.received[0]!.body as { messages: Array<Record<string, unknown>>; tools: unknown[] };
    expect(sent.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(sent.messages[2]).toMatchObject({
      tool_calls: [
        { id: "call_1_1", type: "function", function: { name: "read-note", arguments: '{"name":"a"}' } },
      ],
    });
    expect(sent.messages[3]).toMatchObject({ tool_call_id: "call_1_1", content: "note a: hello" });
    expect(sent.tools).toHaveLength(2);

    // Anthropic gets the same conversation as its content blocks, calls read-note for b, then fails.
    anthropic.reply(
      { json: anthropicBody({ calls: [{ id: "toolu_b", name: "read-note", arguments: { name: "b" } }] }) },
      anthropicError(400, "invalid_request_error", "stop here"),
    );
    await expect(
      runtime.agents.resume(session, { model: `anthropic:claude-test;baseURL=${anthropic.url}` }),
    ).rejects.toMatchObject({ code: "MODEL_ERROR" });
    const toAnthropic = anthropic.received[0]!.body as {
      system: unknown;
      messages: Array<{ role: string; content: unknown }>;
    };
    expect(JSON.stringify(toAnthropic.system)).toContain("Answer questions about notes.");
    expect(JSON.stringify(toAnthropic.messages)).toContain('"tool_use_id":"call_oa"');
    expect(JSON.stringify(toAnthropic.messages)).toContain('"type":"tool_use","id":"call_1_1"');

    // And back on the scripted model, at the turn the session reached (its fourth model call).
    const back = join(dir, "back.script.yaml");
    writeFileSync(
      back,
      `reader:\n  - text: a\n  - text: b\n  - text: c\n  - expect: "note b: hello"\n    text: "a and b say hello"\n`,
    );
    expect(await runtime.agents.resume(session, { model: `scripted:${back}` })).toEqual({
      session,
      answer: "a and b say hello",
    });
    const shown = await runtime.agents.show(session);
    expect(shown.status).toBe("done");
    expect(shown.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(shown.messages[6]!.tool_calls).toEqual([
      { id: "toolu_b", name: "read-note", arguments: { name: "b" } },
    ]);
  });
});
