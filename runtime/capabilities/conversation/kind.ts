// The conversation kind, whole: an agent's handle to its own kernel-owned conversation (never granted by policy).
import type { AgentSessions } from "../agent-only.ts";
import { NO_SESSIONS, refusedEntry } from "../agent-only.ts";
import { defineKind } from "../kind.ts";
import { CONVERSATION_RIGHTS, createConversationKind } from "./index.ts";

export const conversation = defineKind({
  name: "conversation",
  rights: CONVERSATION_RIGHTS,
  words: "read or add to its own conversation",
  exampleScope: "",
  agentOnly: true,
  policy: {
    schema: refusedEntry("conversation"),
    grant: (_entry, _env, problem) => {
      problem([], "a conversation handle is given to agents by the runtime");
      return undefined;
    },
  },
  create: (services: { agents?: AgentSessions | undefined }) =>
    createConversationKind(services.agents ?? NO_SESSIONS),
});
