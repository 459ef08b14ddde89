// Test helper: a local server speaking Anthropic's Messages API (JSON and SSE), and builders for its bodies.
import { FakeServer, type Reply, type SseEvent } from "./fake-http.ts";

export const ANTHROPIC_TEST_KEY = "sk-ant-test-0123456789abcdef";

interface Call {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** Starts a server on POST /v1/messages that takes the key as x-api-key or as a bearer token (SDK 1.14 sends the latter). */
export function startFakeAnthropic(key = ANTHROPIC_TEST_KEY): Promise<FakeServer> {
  return new FakeServer((req) => {
    const given = req.headers["x-api-key"] ?? String(req.headers.authorization ?? "").replace(/^Bearer /, "");
    if (given !== key) return anthropicError(401, "invalid x-api-key", "authentication_error");
    if (!req.headers["anthropic-version"]) return anthropicError(400, "anthropic-version header is required");
    if (req.method !== "POST" || req.url !== "/v1/messages")
      return anthropicError(404, `no route ${req.url}`);
    return undefined;
  }).start();
}

export function anthropicError(
  status: number,
  message: string,
  type = "invalid_request_error",
  headers: Record<string, string> = {},
): Reply {
  return { status, headers, json: { type: "error", error: { type, message } } };
}

export function anthropicBody(options: {
  text?: string;
  calls?: Call[];
  stop?: string;
  usage?: { input: number; output: number };
  model?: string;
}) {
  const calls = options.calls ?? [];
  return {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: options.model ?? "claude-test",
    content: [
      ...(options.text !== undefined || !calls.length ? [{ type: "text", text: options.text ?? "" }] : []),
      ...calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.arguments })),
    ],
    stop_reason: options.stop ?? (calls.length ? "tool_use" : "end_turn"),
    stop_sequence: null,
    usage: { input_tokens: options.usage?.input ?? 10, output_tokens: options.usage?.output ?? 5 },
  };
}

/** The same answer as Anthropic streams it: message_start, blocks with deltas, message_delta, message_stop. */
export function anthropicStream(body: ReturnType<typeof anthropicBody>): SseEvent[] {
  const ev = (event: string, data: unknown): SseEvent => ({
    event,
    data: JSON.stringify({ type: event, ...(data as object) }),
  });
  const events: SseEvent[] = [
    ev("message_start", {
      message: {
        ...body,
        content: [],
        stop_reason: null,
        usage: { input_tokens: body.usage.input_tokens, output_tokens: 1 },
      },
    }),
    ev("ping", {}),
  ];
  for (const [index, block] of body.content.entries()) {
    if (block.type === "text") {
      events.push(ev("content_block_start", { index, content_block: { type: "text", text: "" } }));
      for (const piece of (block as { text: string }).text.match(/.{1,4}/gs) ?? [])
        events.push(ev("content_block_delta", { index, delta: { type: "text_delta", text: piece } }));
    } else {
      const call = block as { id: string; name: string; input: unknown };
      const json = JSON.stringify(call.input);
      const half = Math.floor(json.length / 2);
      events.push(
        ev("content_block_start", {
          index,
          content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
        }),
      );
      events.push(
        ev("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: json.slice(0, half) },
        }),
      );
      events.push(
        ev("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: json.slice(half) },
        }),
      );
    }
    events.push(ev("content_block_stop", { index }));
  }
  events.push(
    ev("message_delta", {
      delta: { stop_reason: body.stop_reason, stop_sequence: null },
      usage: { output_tokens: body.usage.output_tokens },
    }),
  );
  events.push(ev("message_stop", {}));
  return events;
}
