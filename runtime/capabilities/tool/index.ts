// The tool kind, host side: a handle to one tool an agent may call (a sandboxed tool the runtime loaded, with
// its own grants, sandbox and limits). Each call is journaled by the session and audited by both gates.
import { z } from "zod";
import { type AgentSessions, liveSession, notGrantable } from "../agent-only.ts";
import { TOOL_CALL_ID } from "../model/conversation.ts";
import type { CapabilityKind, Grant } from "../types.ts";
import { defineOperation } from "../types.ts";

export const TOOL_RIGHTS = ["call"] as const;

export interface ToolScope {
  session: string;
  /** The tool's name as the agent and its model know it. */
  tool: string;
}

const format = (g: Grant<ToolScope>) => `tool:${g.scope.tool}`;

export function createToolKind(agents: AgentSessions): CapabilityKind<ToolScope, void> {
  return {
    kind: "tool",
    rights: TOOL_RIGHTS,
    defaultRights: TOOL_RIGHTS,
    parseSpec() {
      throw notGrantable("tool");
    },
    formatSpec: format,
    auditForm: format,
    describe: (g) => `call the tool "${g.scope.tool}"`,
    async open() {},
    async close() {},
    narrowArgs: z.strictObject({}),
    async narrow(parent) {
      return parent.grant.scope;
    },
    ops: {
      describe: defineOperation<ToolScope, void, Record<string, never>>({
        right: "call",
        args: z.strictObject({}),
        async run({ grant }) {
          return liveSession(agents, grant.scope.session).toolDefinition(grant.scope.tool);
        },
        summary: () => "",
      }),
      call: defineOperation<ToolScope, void, { input: unknown; id?: string | undefined }>({
        right: "call",
        args: z.strictObject({ input: z.json(), id: z.string().regex(TOOL_CALL_ID).optional() }),
        run: ({ grant }, args, ctx) =>
          liveSession(agents, grant.scope.session).callTool(
            grant.scope.tool,
            args.input,
            args.id,
            ctx.signal,
          ),
        // The call's id only: inputs are content, and content stays in the journal.
        summary: (a) => `${a.id ?? "(no id)"}`,
      }),
    },
  };
}
