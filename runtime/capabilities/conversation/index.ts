// The conversation kind, host side: a handle to the agent's own session conversation. The kernel keeps the
// history; the guest reads pages of it, appends user and tool messages, and asks for the next turn.
import { z } from "zod";
import { MAX_READ } from "../../agents/session.ts";
import { type AgentSessions, liveSession, notGrantable } from "../agent-only.ts";
import { messageSchema } from "../model/conversation.ts";
import type { CapabilityKind, Grant } from "../types.ts";
import { defineOperation } from "../types.ts";

export const CONVERSATION_RIGHTS = ["read", "append", "complete"] as const;

export interface ConversationScope {
  session: string;
}

const format = (g: Grant<ConversationScope>) => `conversation:${g.rights.join(",")}`;

export function createConversationKind(agents: AgentSessions): CapabilityKind<ConversationScope, void> {
  return {
    kind: "conversation",
    rights: CONVERSATION_RIGHTS,
    defaultRights: CONVERSATION_RIGHTS,
    parseSpec() {
      throw notGrantable("conversation");
    },
    formatSpec: format,
    auditForm: format,
    describe: (g) => `its own conversation (${g.rights.join(", ")})`,
    async open() {},
    async close() {},
    narrowArgs: z.strictObject({}),
    async narrow(parent) {
      return parent.grant.scope;
    },
    ops: {
      read: defineOperation<ConversationScope, void, { from: number; limit: number }>({
        right: "read",
        args: z.strictObject({
          from: z.int().min(0).default(0),
          limit: z.int().min(1).max(MAX_READ).default(MAX_READ),
        }),
        run: async ({ grant }, args, ctx) =>
          liveSession(agents, grant.scope.session).read(args.from, args.limit, ctx.reserve),
        summary: (a) => `from ${a.from}, at most ${a.limit}`,
      }),
      pending: defineOperation<ConversationScope, void, Record<string, never>>({
        right: "read",
        args: z.strictObject({}),
        run: async ({ grant }) => liveSession(agents, grant.scope.session).pending(),
        summary: () => "",
      }),
      append: defineOperation<ConversationScope, void, { message: z.infer<typeof messageSchema> }>({
        right: "append",
        args: z.strictObject({ message: messageSchema }),
        run: async ({ grant }, args) => ({
          seq: await liveSession(agents, grant.scope.session).append(args.message),
        }),
        // The role only: content never reaches the audit log.
        summary: (a) => a.message.role,
      }),
      complete: defineOperation<ConversationScope, void, Record<string, never>>({
        right: "complete",
        args: z.strictObject({}),
        run: async ({ grant }, _args, ctx) => liveSession(agents, grant.scope.session).complete(ctx.signal),
        summary: () => "",
      }),
    },
  };
}
