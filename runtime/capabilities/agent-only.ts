// What the agent-only kinds (conversation, tool) share: their handles are given by the session runner to an
// agent's sandbox, never by a grant spec or a policy entry, so both refuse to be granted that way.
import { z } from "zod";
import type { LiveSession } from "../agents/session.ts";
import { WardenError } from "../errors.ts";

/** How a kind finds the session its handle belongs to; the runtime's agents (runtime/agents/runner.ts) answer. */
export interface AgentSessions {
  live(session: string): LiveSession | undefined;
}

/** A runtime without agents: every agent-only handle reaches nothing. */
export const NO_SESSIONS: AgentSessions = { live: () => undefined };

export function notGrantable(kind: string): WardenError {
  return new WardenError(
    "USAGE",
    `a ${kind} handle is given by the runtime to an agent's program, never by a grant; define an agent instead`,
  );
}

/** The policy entry of an agent-only kind: refused, saying where such handles come from. */
export function refusedEntry(kind: string) {
  return z
    .strictObject({})
    .refine(
      () => false,
      `a ${kind} handle is given to agents by the runtime; name tools in an agent's tools: instead`,
    );
}

/** The running session a handle belongs to; a handle outliving its session's run reaches nothing. */
export function liveSession(agents: AgentSessions, session: string): LiveSession {
  const live = agents.live(session);
  if (!live) throw new WardenError("CAPABILITY_DENIED", "this agent session is not running");
  return live;
}
