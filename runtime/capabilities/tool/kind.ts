// The tool kind, whole: an agent's handle to one tool it may call (given by the runtime, never by policy).
import type { AgentSessions } from "../agent-only.ts";
import { NO_SESSIONS, refusedEntry } from "../agent-only.ts";
import { defineKind } from "../kind.ts";
import { createToolKind, TOOL_RIGHTS } from "./index.ts";

export const tool = defineKind({
  name: "tool",
  rights: TOOL_RIGHTS,
  words: "call other tools",
  exampleScope: "",
  agentOnly: true,
  policy: {
    schema: refusedEntry("tool"),
    grant: (_entry, _env, problem) => {
      problem([], "a tool handle is given to agents by the runtime");
      return undefined;
    },
  },
  create: (services: { agents?: AgentSessions | undefined }) =>
    createToolKind(services.agents ?? NO_SESSIONS),
});
