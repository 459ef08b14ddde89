// The policy file's schema: every field Warden enforces, nothing it would not (unknown fields are errors).
import { z } from "zod";
import { GRANTABLE_KINDS } from "../capabilities/index.ts";
import { SECRET_NAME } from "../secrets.ts";
import { strict } from "./fields.ts";

/** The policy format this build reads. A file says which one it is written in, so a future format is refused, not misread. */
export const POLICY_VERSION = 1;

/** The kinds a policy grant may name, from the registry, in its order. */
export const GRANT_KINDS: readonly string[] = GRANTABLE_KINDS.map((kind) => kind.name);

/** One handle: exactly one kind, e.g. `{ fs: { root: ./data, rights: [read] } }`; each kind's entry is its own schema. */
export const grantSchema = strict(
  Object.fromEntries(GRANTABLE_KINDS.map((kind) => [kind.name, kind.policySchema.optional()])),
  `a grant (a grant is one of ${GRANT_KINDS.join(", ")})`,
)
  .refine((grant) => Object.keys(grant).length === 1, {
    error: `a grant names exactly one kind: one of ${GRANT_KINDS.join(", ")}`,
  })
  .meta({ minProperties: 1, maxProperties: 1 });

const limitsSchema = strict(
  {
    timeoutMs: z.int().min(1).max(3_600_000).optional().describe("Wall time per call, ms (default 10000)."),
    cpuMs: z.int().min(1).max(3_600_000).optional().describe("CPU time per call, ms (default 2000)."),
    memoryMb: z.int().min(8).max(16_384).optional().describe("Heap, MiB (default 64)."),
    outputKb: z.int().min(1).max(1_048_576).optional().describe("Largest output, KiB (default 1024)."),
  },
  "limits",
);

export const PIN_PARTS = [
  "name",
  "description",
  "inputSchema",
  "outputSchema",
  "capabilities",
  "code",
] as const;
export type PinPart = (typeof PIN_PARTS)[number];

export const toolSchema = strict(
  {
    source: z
      .string()
      .min(1)
      .describe("The tool module (.js, .mjs, .ts, .mts, .wasm), relative to the policy file."),
    digest: z
      .string()
      .regex(
        /^sha256:[0-9a-f]{64}$/,
        "a digest is sha256: and 64 lowercase hex digits; write it with warden policy pin",
      )
      .optional()
      .describe("Pins the tool's definition and code; written by `warden policy pin`."),
    parts: strict(
      Object.fromEntries(PIN_PARTS.map((part) => [part, z.string().regex(/^[0-9a-f]{16}$/)])) as Record<
        PinPart,
        z.ZodString
      >,
      "parts",
    )
      .optional()
      .describe("Short hashes of each pinned part, so a refusal can say what changed; written with digest."),
    backend: z.string().min(1).optional().describe("The sandbox backend (default: v8, or wasm for .wasm)."),
    limits: limitsSchema.optional(),
    grants: z
      .record(
        z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/, "a handle name is a JavaScript identifier"),
        grantSchema,
      )
      .default({})
      .describe("Handles by the capability names the tool declares."),
  },
  "a tool",
).refine((tool) => tool.parts === undefined || tool.digest !== undefined, {
  error: "parts is written together with digest; run warden policy pin",
  path: ["parts"],
});

/** An external MCP server Warden fronts: how to reach it, and which of its tools this policy allows. */
export const serverSchema = strict(
  {
    command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "The program and its arguments, started over stdio with a minimal environment; a program path starting with . is relative to the policy file.",
      ),
    url: z
      .url({ protocol: /^https?$/, error: "a server url is http:// or https://" })
      .optional()
      .describe("A Streamable HTTP endpoint, e.g. http://127.0.0.1:8080/mcp."),
    tools: z
      .array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a tool name as the server lists it"))
      .min(1, "name at least one tool: a server offers only the tools a policy allows")
      .describe(
        "The server's tools this policy allows. Each is offered only while its whole definition matches the one approved with `warden mcp approve`.",
      ),
  },
  "an MCP server",
).refine((server) => (server.command === undefined) !== (server.url === undefined), {
  error: "an MCP server has exactly one of command or url",
});

/** A credential the kernel holds: from its environment or a file (relative to the policy file). */
export const secretSchema = z.union(
  [
    strict({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name") }, "a secret"),
    strict({ file: z.string().min(1).describe("Relative to the policy file.") }, "a secret"),
  ],
  { error: () => "a secret is { env: VARIABLE } or { file: ./path }" },
);

/** The overflow choices an agent may declare for when its conversation would pass its context budget. */
export const OVERFLOW_CHOICES = ["refuse", "drop-tool-results", "summarise"] as const;

/** An agent's budgets; each ends the session (or its turn) when spent. */
const agentLimitsSchema = strict(
  {
    turns: z.int().min(1).max(10_000).optional().describe("Model calls the session may make."),
    tokens: z.int().min(1).max(1e12).optional().describe("Tokens in and out, over the whole session."),
    cost: z
      .number()
      .positive()
      .max(1e9)
      .optional()
      .describe(
        "Not enforced yet, so refused: put totalCost on the model grant, which the model kind charges.",
      ),
    wallMs: z
      .int()
      .min(1)
      .max(7 * 24 * 3_600_000)
      .optional()
      .describe("Wall time of the whole session, ms."),
    contextTokens: z
      .int()
      .min(64)
      .max(10_000_000)
      .optional()
      .describe("How large the conversation may grow, in tokens, before context.overflow applies."),
  },
  "an agent's limits",
);

/** An agent: its instructions, its model, the tools it may call, and its budgets. */
export const agentSchema = strict(
  {
    description: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe("What the agent is for, for people and MCP clients."),
    instructions: z
      .string()
      .min(1)
      .max(65_536)
      .optional()
      .describe("The system message; optional when source is a defineAgent module that gives them."),
    model: z
      .string()
      .min(1)
      .max(2048)
      .describe(
        "A model grant spec, e.g. scripted:./agent.script.yaml or openai:gpt-4o;totalTokens=100000; paths are relative to the policy file.",
      ),
    tools: z
      .array(z.string().min(1).max(130))
      .default([])
      .refine((list) => new Set(list).size === list.length, "lists a tool twice")
      .describe(
        "Tools the agent may call: names from tools:, or SERVER__TOOL for a tool of one of servers:.",
      ),
    source: z
      .string()
      .min(1)
      .optional()
      .describe("A defineAgent module (.js, .mjs, .ts, .mts), relative to the policy file."),
    grants: z
      .record(
        z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/, "a handle name is a JavaScript identifier"),
        grantSchema,
      )
      .default({})
      .describe("Further handles for the agent's own program (source), by the capability names it declares."),
    backend: z
      .string()
      .min(1)
      .optional()
      .describe("The sandbox backend of the agent's program: v8 or quickjs (default: the runtime's)."),
    limits: agentLimitsSchema.optional(),
    context: strict(
      {
        overflow: z
          .enum(OVERFLOW_CHOICES, {
            error: () => `overflow is one of ${OVERFLOW_CHOICES.join(", ")}`,
          })
          .describe(
            "When the next turn would pass limits.contextTokens: refuse (LIMIT_EXCEEDED), drop the oldest tool results, or summarise through the agent's model.",
          ),
      },
      "context",
    )
      .optional()
      .describe("What happens when the conversation would outgrow limits.contextTokens (default refuse)."),
  },
  "an agent",
)
  .refine((agent) => agent.instructions !== undefined || agent.source !== undefined, {
    error: "an agent needs instructions, or a source module whose defineAgent gives them",
    path: ["instructions"],
  })
  .refine((agent) => agent.context === undefined || agent.limits?.contextTokens !== undefined, {
    error: "context.overflow applies when the conversation would pass limits.contextTokens; set that too",
    path: ["context"],
  })
  .refine((agent) => agent.source !== undefined || Object.keys(agent.grants).length === 0, {
    error:
      "grants are handles for an agent's own program (source); the standard loop uses only its model and tools",
    path: ["grants"],
  });

export const policySchema = strict(
  {
    $schema: z.string().optional().describe("Where editors find this schema."),
    version: z.literal(POLICY_VERSION, { error: () => `version must be ${POLICY_VERSION}` }),
    tools: z
      .record(
        z
          .string()
          .regex(
            /^[A-Za-z][A-Za-z0-9_-]{0,63}$/,
            "a tool name is what its defineTool says: a letter, then letters, digits, - or _",
          ),
        toolSchema,
      )
      .describe("Tools by their defineTool name. A tool not listed does not run under this policy."),
    servers: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, "a server name is a letter, then letters, digits, - or _"),
        serverSchema,
      )
      .optional()
      .describe("External MCP servers whose approved tools `warden mcp serve` offers as <server>__<tool>."),
    secrets: z
      .record(
        z.string().regex(SECRET_NAME, "a secret name is a letter, then letters, digits, - or _"),
        secretSchema,
      )
      .optional()
      .describe(
        `Credentials the kernel holds, by name, for net grants' headers (\${secret:NAME}); never shown to a tool, logged or audited.`,
      ),
    agents: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "an agent name is a letter, then letters, digits, - or _"),
        agentSchema,
      )
      .optional()
      .describe(
        "Agents: each runs in its own sandbox and holds only its model, its tools and its conversation.",
      ),
  },
  "a policy (a policy has version, tools and optionally servers, secrets and agents)",
).meta({
  title: "Warden capability policy",
  description: "Deny by default: a tool gets only the handles listed.",
});

export type PolicyDocument = z.infer<typeof policySchema>;
export type ToolEntry = PolicyDocument["tools"][string];
export type GrantEntry = ToolEntry["grants"][string];
export type AgentEntry = z.infer<typeof agentSchema>;
