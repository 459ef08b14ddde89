// The model a session runs on, from its spec (a model grant spec: "scripted:./reader.script.yaml",
// "openai:gpt-4o;maxTokens=1024"): one call per turn, told the turn's index. The scripted model answers
// statelessly from that index, so a session resumed in a new process continues at the right turn and a
// replay is bit for bit; remote providers go through the model kind (its budgets, keys, retries).
import { isAbsolute, resolve } from "node:path";
import type { Completion, CompletionRequest, Message, ToolSpec } from "../capabilities/model/conversation.ts";
import { loadScript } from "../capabilities/model/scripted.ts";
import type { Grant } from "../capabilities/types.ts";
import type { Kernel } from "../kernel.ts";

export interface ModelTurn {
  agent: string;
  session: string;
  /** How many model calls the session journaled before this one. */
  turn: number;
  signal: AbortSignal;
}

export interface SessionModel {
  readonly spec: string;
  complete(request: { messages: Message[]; tools: ToolSpec[] }, turn: ModelTurn): Promise<Completion>;
}

/** Opens the model a spec names; relative script paths resolve against `cwd`. USAGE if the spec is not valid. */
export async function openModel(spec: string, env: { cwd: string; kernel: Kernel }): Promise<SessionModel> {
  // Parsed by the model kind itself, so an agent's model accepts exactly what a model grant does.
  const { kind, grant } = env.kernel.parseSpec(`model:${spec}`, { cwd: env.cwd });
  const scope = grant.scope as { provider: string; script?: { path: string } };
  if (scope.provider === "scripted" && scope.script) {
    const path = scope.script.path;
    const script = await loadScript(isAbsolute(path) ? path : resolve(env.cwd, path));
    return {
      spec,
      async complete(request, turn) {
        if (turn.signal.aborted) throw turn.signal.reason;
        return script.respond(turn.agent, turn.turn, request.messages);
      },
    };
  }
  const resource = await kind.open(grant);
  const op = kind.ops.complete!;
  return {
    spec,
    async complete(request, turn) {
      const args: CompletionRequest = op.args.parse({
        messages: request.messages,
        ...(request.tools.length ? { tools: request.tools } : {}),
      });
      return (await op.run({ grant: grant as Grant<unknown>, resource }, args, {
        signal: turn.signal,
        handleName: "model",
        owner: turn.agent,
        run: turn.session,
      })) as Completion;
    },
  };
}
