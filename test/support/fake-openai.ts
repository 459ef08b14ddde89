// Test helper: a local server speaking OpenAI's Chat Completions API (JSON and SSE), and builders for its bodies.
import { FakeServer, type Reply, type SseEvent } from "./fake-http.ts";

export const OPENAI_TEST_KEY = "sk-test-openai-0123456789abcdef";

interface Call {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** Starts a server that wants `Authorization: Bearer <key>` on POST /v1/chat/completions. */
export function startFakeOpenAI(key = OPENAI_TEST_KEY): Promise<FakeServer> {
  return new FakeServer((req) => {
    if (req.headers.authorization !== `Bearer ${key}`) {
      return openaiError(401, `Incorrect API key provided: ${String(req.headers.authorization).slice(7)}`);
    }
    if (req.method !== "POST" || req.url !== "/v1/chat/completions")
      return openaiError(404, `no route ${req.url}`);
    return undefined;
  }).start();
}

/** The base URL to give the SDK. */
export function openaiBaseURL(server: FakeServer): string {
  return `${server.url}/v1`;
}

export function openaiError(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return { status, headers, json: { error: { message, type: "invalid_request_error", code: null } } };
}

export function openaiBody(options: {
  text?: string;
  calls?: Call[];
  finish?: string;
  usage?: { input: number; output: number };
  model?: string;
}) {
  const calls = options.calls ?? [];
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: options.model ?? "gpt-test",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: options.text ?? (calls.length ? null : ""),
          refusal: null,
          ...(calls.length
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.id,
                  type: "function",
                  function: { name: c.name, arguments: JSON.stringify(c.arguments) },
                })),
              }
            : {}),
        },
        finish_reason: options.finish ?? (calls.length ? "tool_calls" : "stop"),
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: options.usage?.input ?? 10,
      completion_tokens: options.usage?.output ?? 5,
      total_tokens: (options.usage?.input ?? 10) + (options.usage?.output ?? 5),
    },
  };
}

/** The same answer as a stream: text in pieces, each call's arguments split in two, usage last, then [DONE]. */
export function openaiStream(body: ReturnType<typeof openaiBody>): SseEvent[] {
  const choice = body.choices[0]!;
  const base = { id: body.id, object: "chat.completion.chunk", created: 1, model: body.model };
  const chunk = (delta: unknown, finish: string | null = null) => ({
    data: JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] }),
  });
  const events: SseEvent[] = [chunk({ role: "assistant", content: "" })];
  for (const piece of (choice.message.content ?? "").match(/.{1,4}/gs) ?? [])
    events.push(chunk({ content: piece }));
  for (const [index, call] of (choice.message.tool_calls ?? []).entries()) {
    const args = call.function.arguments;
    const half = Math.floor(args.length / 2);
    events.push(
      chunk({
        tool_calls: [
          {
            index,
            id: call.id,
            type: "function",
            function: { name: call.function.name, arguments: args.slice(0, half) },
          },
        ],
      }),
    );
    events.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] }));
  }
  events.push(chunk({}, choice.finish_reason));
  events.push({ data: JSON.stringify({ ...base, choices: [], usage: body.usage }) });
  events.push({ data: "[DONE]" });
  return events;
}
