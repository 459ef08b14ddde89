// The model a session runs on, from its spec ("scripted:./reader.script.yaml"): one call per turn, told the
// turn's index, so a scripted model is stateless across kernel deaths (resume) and replays bit for bit.
import { isAbsolute, resolve } from "node:path";
import type { Completion, Message, ToolSpec } from "../capabilities/model/conversation.ts";
import { loadScript } from "../capabilities/model/scripted.ts";
import { WardenError } from "../errors.ts";

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

/** Opens the model a spec names; relative script paths resolve against `cwd`. */
export async function openModel(spec: string, cwd: string): Promise<SessionModel> {
  const colon = spec.indexOf(":");
  const provider = colon < 0 ? spec : spec.slice(0, colon);
  const target = spec.slice(colon + 1);
  if (provider === "scripted" && colon > 0 && target !== "") {
    const script = await loadScript(isAbsolute(target) ? target : resolve(cwd, target));
    return {
      spec,
      async complete(request, turn) {
        if (turn.signal.aborted) throw turn.signal.reason;
        return script.respond(turn.agent, turn.turn, request.messages);
      },
    };
  }
  throw new WardenError(
    "USAGE",
    `an agent's model must be a model grant such as scripted:./agent.script.yaml; got "${spec}"` +
      (provider === "openai" || provider === "anthropic"
        ? ` (${provider} agents arrive with the model kind)`
        : ""),
  );
}
