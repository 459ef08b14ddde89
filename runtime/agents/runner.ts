// The session runner and the host API on the Runtime (runtime.agents): define agents; start, resume, replay and
// cancel sessions; each session's program runs in its own sandbox holding only its conversation, its tools and
// its grants. Where sessions live is the store's business (store.ts); nothing here assumes SQLite.
import { z } from "zod";
import type { AgentSessions } from "../capabilities/agent-only.ts";
import type { Message } from "../capabilities/model/conversation.ts";
import { toolErrorContent, toolResultContent } from "../capabilities/tool/guest.ts";
import type { Isolation } from "../cells/index.ts";
import type { ToolDescriptor } from "../descriptor.ts";
import { WardenError } from "../errors.ts";
import type { SandboxModule } from "../isolates/types.ts";
import type { Kernel, SandboxRecord } from "../kernel.ts";
import type { Tool } from "../tool.ts";
import { OVERFLOW_CHOICES } from "./conversation.ts";
import { openModel } from "./model.ts";
import {
  type AgentLimits,
  LiveSession,
  type Replaying,
  type ReplayStep,
  type ToolTarget,
  unknownOutcome,
} from "./session.ts";
import { MemorySessionStore, type Session, type SessionStore, type ToolStep } from "./store.ts";

/** Where tool handles sit in an agent sandbox's table (sdk/guest/agent.ts groups them into caps.tools). */
const TOOL_HANDLE_PREFIX = "tool:";
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** An agent's program gets this wall time unless its limits say otherwise. */
export const DEFAULT_WALL_MS = 600_000;

const CANCELLED = new WardenError("LIMIT_EXCEEDED", "the session was cancelled");

const specSchema = z.strictObject({
  name: z.string().regex(NAME, "an agent's name is letters, digits, '-' and '_', starting with a letter"),
  description: z.string().max(10_000).optional(),
  instructions: z.string().max(100_000).optional(),
  model: z.string().min(1).max(4096),
  tools: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/))
    .max(128)
    .default([]),
  source: z.string().min(1).optional(),
  grants: z.record(z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/), z.string()).default({}),
  limits: z
    .strictObject({
      turns: z.int().min(1).optional(),
      tokens: z.int().min(1).optional(),
      cost: z.number().positive().optional(),
      wallMs: z.int().min(1).max(3_600_000).optional(),
      contextTokens: z.int().min(1).optional(),
    })
    .default({}),
  context: z.strictObject({ overflow: z.enum(OVERFLOW_CHOICES) }).optional(),
  /** The backend the program runs on ("v8", "quickjs", "v8:in-process"); default: the runtime's. */
  backend: z.string().optional(),
});

export type AgentSpec = z.input<typeof specSchema>;
type Spec = z.output<typeof specSchema>;

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (event: { session: string; kind: "turn" | "tool"; detail: string }) => void;
}

export interface ShownMessage {
  role: Message["role"];
  content: string;
  tool_calls?: Array<{ id: string; name: string; arguments: Record<string, unknown> }>;
  tool_call_id?: string;
}

/** What the runner needs of its runtime. */
export interface AgentHost {
  kernel: Kernel;
  store: SessionStore;
  cwd: string;
  isolation: Isolation;
  readModule(path: string): Promise<{ module: SandboxModule; identity: string; code: Uint8Array }>;
  loadModule(
    read: { module: SandboxModule; identity: string; code: Uint8Array },
    options: { limits?: { timeoutMs?: number }; isolation?: Isolation },
    engine: string | undefined,
    install: (record: SandboxRecord, descriptor: ToolDescriptor) => Promise<void>,
  ): Promise<Tool>;
  toolNamed(name: string): Tool | undefined;
}

export class Agents implements AgentSessions {
  private readonly host: AgentHost;
  private readonly specs = new Map<string, Spec>();
  private readonly extraTools = new Map<string, ToolTarget>();
  private readonly running = new Map<string, LiveSession>();
  private readonly stops = new Map<string, AbortController>();

  constructor(host: AgentHost) {
    this.host = host;
  }

  /** Defines (or redefines) an agent: from a policy entry or a defineAgent module. */
  define(spec: AgentSpec): void {
    const parsed = specSchema.safeParse(spec);
    if (!parsed.success)
      throw new WardenError("USAGE", `bad agent definition: ${z.prettifyError(parsed.error)}`);
    // A cost budget needs the model kind's price table; refused rather than silently not enforced.
    if (parsed.data.limits.cost !== undefined)
      throw new WardenError(
        "USAGE",
        `agent "${parsed.data.name}": limits.cost is not enforced yet; remove it`,
      );
    if (parsed.data.instructions === undefined && parsed.data.source === undefined)
      throw new WardenError("USAGE", `agent "${parsed.data.name}" needs instructions or a source module`);
    this.specs.set(parsed.data.name, parsed.data);
  }

  /** Offers agents a tool that is not a loaded sandboxed tool (an approved tool of a fronted MCP server). */
  provideTool(name: string, target: ToolTarget): void {
    this.extraTools.set(name, target);
  }

  live(session: string): LiveSession | undefined {
    return this.running.get(session);
  }

  private spec(name: string): Spec {
    const spec = this.specs.get(name);
    if (!spec) {
      const known = [...this.specs.keys()];
      throw new WardenError("USAGE", `no agent named "${name}"; defined: ${known.join(", ") || "none"}`);
    }
    return spec;
  }

  private async session(id: string): Promise<Session> {
    const session = await this.host.store.get(id);
    if (!session) throw new WardenError("NOT_FOUND", `no session "${id.slice(0, 64)}"`);
    return session;
  }

  /** Starts a session: journals the instructions and the task first, then runs the agent's program. */
  async run(
    name: string,
    request: { task: string; parent?: string },
    options: RunOptions = {},
  ): Promise<{ session: string; answer: string }> {
    const spec = this.spec(name);
    if (typeof request.task !== "string" || request.task === "")
      throw new WardenError("USAGE", "a task is needed");
    const program = await this.program(spec);
    // Before the session exists: an agent that cannot run leaves no session behind.
    this.targets(spec);
    const store = this.host.store;
    const session = await store.create({
      agent: name,
      task: request.task,
      model: spec.model,
      parent: request.parent ?? null,
    });
    const live = await this.open(spec, session, store, undefined, options.onProgress);
    return this.launch(spec, program, live, store, options);
  }

  /** Continues a session whose kernel died (or that was interrupted), optionally on another model. */
  async resume(
    id: string,
    options: { model?: string } & RunOptions = {},
  ): Promise<{ session: string; answer: string }> {
    const store = this.host.store;
    let session = await this.session(id);
    if (this.running.has(id)) throw new WardenError("USAGE", `session ${id} is running in this runtime`);
    // The store reads a session whose kernel died as interrupted; running means its kernel is still alive.
    if (session.status === "running")
      throw new WardenError(
        "USAGE",
        `session ${id} is running in another kernel; resume it once that one has stopped (warden agent ps then shows it interrupted)`,
      );
    if (session.status === "done") return { session: id, answer: session.answer ?? "" };
    if (session.status === "cancelled")
      throw new WardenError("USAGE", `session ${id} was cancelled; it cannot be resumed`);
    const spec = this.spec(session.agent);
    if (options.model !== undefined) session = await store.update(id, { model: options.model });
    session = await store.update(id, { status: "running", error: null });
    const program = await this.program(spec);
    const live = await this.open(spec, session, store, undefined, options.onProgress);
    await this.repair(live);
    return this.launch(spec, program, live, store, options);
  }

  /**
   * Brings a journal cut by a kernel death to where the program can go on: a model step whose message was not
   * written gets it; each tool call without a result gets its recorded outcome, or, if it was running when
   * the kernel died, a message saying its outcome is unknown (unless the tool is idempotent: then it is
   * left for the program to run again). A call that never started is left for the program too.
   */
  private async repair(live: LiveSession): Promise<void> {
    const conversation = live.conversation;
    const steps = live.journalSteps();
    const lastModel = steps.filter((s) => s.kind === "model" && s.purpose === undefined).at(-1);
    if (lastModel?.kind === "model" && lastModel.seq > conversation.lastSeq)
      await conversation.appendCompletion(lastModel.completion.message, lastModel.completion.usage);
    for (const call of conversation.pending()) {
      const step = steps.find((s): s is ToolStep => s.kind === "tool" && s.callId === call.id);
      if (!step) continue;
      if (step.outcome === "ok") {
        const content = toolResultContent(JSON.parse(step.result ?? "null"));
        await conversation.append({ role: "tool", toolCallId: call.id, content });
      } else if (step.outcome === "error") {
        const { message } = JSON.parse(step.result ?? "{}") as { message?: string };
        const content = toolErrorContent("TOOL_ERROR", message ?? "the tool failed");
        await conversation.append({ role: "tool", toolCallId: call.id, content, isError: true });
      } else if (step.outcome === "unknown" || !this.target(step.name)?.definition.idempotent) {
        await live.markUnknown(step);
        const content = toolErrorContent("TOOL_ERROR", unknownOutcome(step.name));
        await conversation.append({ role: "tool", toolCallId: call.id, content, isError: true });
      }
    }
  }

  /** Re-runs a session's program against its journal and reports, step by step, whether it asked the same. */
  async replay(id: string): Promise<{ session: string; matched: boolean; steps: ReplayStep[] }> {
    const original = await this.session(id);
    const spec = this.spec(original.agent);
    const recorded = await this.host.store.steps(id);
    const opening = await this.host.store.messages(id, { to: 2 });
    const program = await this.program(spec);
    // A scratch session in memory: a replay writes nothing to the real journal.
    const scratch = new MemorySessionStore();
    const session = await scratch.create({
      agent: original.agent,
      task: original.task,
      model: original.model,
    });
    const replay: Replaying = { steps: recorded, report: [] };
    const live = await this.open(spec, session, scratch, replay);
    for (const entry of opening) await live.conversation.append(entry.message);
    let answer: string | undefined;
    try {
      answer = (await this.launch(spec, program, live, scratch, {})).answer;
    } catch {
      answer = undefined;
    }
    const answered = answer !== undefined && answer === original.answer;
    replay.report.push({
      kind: "answer",
      index: 0,
      matched: answered,
      ...(answered
        ? {}
        : { detail: answer === undefined ? "the replay did not reach an answer" : "the answer differs" }),
    });
    const modelCalls = recorded.filter((s) => s.kind === "model").length;
    const replayed = replay.report.filter((r) => r.kind === "model").length;
    if (replayed < modelCalls)
      replay.report.push({
        kind: "model",
        index: replayed,
        matched: false,
        detail: "the replay made fewer model calls than the journal",
      });
    scratch.close();
    return { session: id, matched: replay.report.every((r) => r.matched), steps: replay.report };
  }

  async list(): Promise<
    Array<{ session: string; agent: string; status: Session["status"]; parent: string | null }>
  > {
    return (await this.host.store.list()).map((s) => ({
      session: s.id,
      agent: s.agent,
      status: s.status,
      parent: s.parent,
    }));
  }

  async show(id: string) {
    const session = await this.session(id);
    const messages = (await this.host.store.messages(id)).map(({ message }) => shown(message));
    const children = (await this.host.store.children(id)).map((c) => ({
      session: c.id,
      agent: c.agent,
      status: c.status,
    }));
    return { session: id, agent: session.agent, status: session.status, messages, children };
  }

  /** Stops a running session (its sandbox ends, its calls in flight are aborted) and marks it cancelled. */
  async cancel(id: string): Promise<void> {
    const session = await this.session(id);
    if (session.status === "done" || session.status === "failed") return;
    await this.host.store.update(id, { status: "cancelled" });
    this.stops.get(id)?.abort(CANCELLED);
    for (const child of await this.host.store.children(id)) await this.cancel(child.id);
  }

  private target(name: string): ToolTarget | undefined {
    return this.extraTools.get(name) ?? toolTarget(this.host.toolNamed(name));
  }

  /** The tools an agent names, each a loaded tool or one provided; refused when one is neither. */
  private targets(spec: Spec): Map<string, ToolTarget> {
    const tools = new Map<string, ToolTarget>();
    for (const name of spec.tools) {
      const target = this.target(name);
      if (!target)
        throw new WardenError(
          "USAGE",
          name.includes("__")
            ? `agent "${spec.name}" names tool "${name}", which no approved tool of a fronted MCP server provides; the policy's servers: must allow it, and warden mcp review and approve it`
            : `agent "${spec.name}" names tool "${name}", which this runtime has not loaded`,
        );
      tools.set(name, target);
    }
    return tools;
  }

  private async open(
    spec: Spec,
    session: Session,
    store: SessionStore,
    replay?: Replaying,
    progress?: RunOptions["onProgress"],
  ) {
    const tools = this.targets(spec);
    return LiveSession.open({
      store,
      session,
      model: await openModel(session.model, { cwd: this.host.cwd, kernel: this.host.kernel }),
      tools,
      limits: spec.limits as AgentLimits,
      overflow: spec.context?.overflow ?? "refuse",
      audit: this.host.kernel.audit,
      held: () => heldTools(this.records.get(session.id)),
      ...(replay ? { replay } : {}),
      ...(progress ? { progress } : {}),
    });
  }

  private readonly records = new Map<string, SandboxRecord>();

  /** The agent's program: its source module, or a module that is only defineAgent, so the standard loop runs. */
  private async program(spec: Spec) {
    const read = spec.source
      ? await this.host.readModule(spec.source)
      : {
          module: {
            source: `import { defineAgent } from "warden/sdk";\nexport default defineAgent({ name: ${JSON.stringify(spec.name)} });\n`,
            filename: `${spec.name}.agent.js`,
          },
          identity: `agent:${spec.name}`,
          code: new Uint8Array(),
        };
    return { read };
  }

  /** Runs the program in a fresh sandbox holding only its handles, and records how the session ended. */
  private async launch(
    spec: Spec,
    program: Awaited<ReturnType<Agents["program"]>>,
    live: LiveSession,
    store: SessionStore,
    options: RunOptions,
  ): Promise<{ session: string; answer: string }> {
    const id = live.id;
    if (options.signal?.aborted) {
      await store.update(id, { status: "cancelled" });
      throw CANCELLED;
    }
    const stop = new AbortController();
    // The caller's abort is a cancel: the session is marked cancelled, and the run rejects as cancel's does.
    const onAbort = () => void this.cancel(id).catch(() => stop.abort(CANCELLED));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    this.stops.set(id, stop);
    let tool: Tool | undefined;
    try {
      tool = await this.host.loadModule(
        program.read,
        { limits: { timeoutMs: spec.limits.wallMs ?? DEFAULT_WALL_MS } },
        spec.backend,
        async (record, descriptor) => {
          if (spec.source && descriptor.agent === undefined)
            throw new WardenError("LOAD_ERROR", `${spec.source} does not export defineAgent({ … })`);
          // A new session's journal opens with the instructions and the task, before its program runs.
          if (live.conversation.lastSeq === 0) {
            const instructions = spec.instructions ?? descriptor.agent?.instructions;
            if (instructions === undefined)
              throw new WardenError(
                "USAGE",
                `agent "${spec.name}" has no instructions (in its definition or its module)`,
              );
            await live.conversation.append({ role: "system", content: instructions });
            await live.conversation.append({ role: "user", content: (await store.get(id))?.task ?? "" });
          }
          await this.install(spec, live, record);
        },
      );
      this.records.set(id, tool.sandboxRecord);
      this.audit(id, live.agent, tool.sandboxRecord.id, "start", "allow");
      this.running.set(id, live);
      const ending = new Promise<never>((_, reject) =>
        stop.signal.addEventListener("abort", () => reject(stop.signal.reason), { once: true }),
      );
      const output = (await Promise.race([tool.call({ task: live.task }, { session: id }), ending])) as {
        answer: string;
      };
      await store.update(id, { status: "done", answer: output.answer });
      this.audit(id, live.agent, tool.sandboxRecord.id, "done", "allow");
      return { session: id, answer: output.answer };
    } catch (error) {
      const current = await store.get(id);
      if (current?.status !== "cancelled") {
        const code = error instanceof WardenError ? error.code : "INTERNAL";
        await store.update(id, { status: "failed", error: code });
        this.audit(id, live.agent, tool?.sandboxRecord.id ?? "", "failed", "error", code);
      }
      throw error instanceof WardenError ? error : this.host.kernel.internal(error, `agent session ${id}`);
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      this.stops.delete(id);
      this.running.delete(id);
      this.records.delete(id);
      // At once: a cancelled or failed program's sandbox ends now, with whatever it was still doing.
      await tool?.dispose({ now: true });
    }
  }

  /** A session's start and end, for the audit log (metadata only: the journal holds the content). */
  private audit(
    session: string,
    agent: string,
    sandbox: string,
    op: string,
    decision: "allow" | "error",
    code?: string,
  ) {
    this.host.kernel.audit.record({
      event: "session",
      tool: agent,
      sandbox,
      session,
      op,
      decision,
      ...(code ? { code } : {}),
    });
  }

  /** The handles an agent's sandbox holds: its conversation, one per tool, and its grants. */
  private async install(spec: Spec, live: LiveSession, record: SandboxRecord): Promise<void> {
    const kernel = this.host.kernel;
    const conversation = kernel.kind("conversation")!;
    const toolKind = kernel.kind("tool")!;
    await kernel.grant(record, "conversation", conversation, {
      rights: [...conversation.rights],
      scope: { session: live.id },
    });
    for (const name of spec.tools)
      await kernel.grant(record, `${TOOL_HANDLE_PREFIX}${name}`, toolKind, {
        rights: ["call"],
        scope: { session: live.id, tool: name },
      });
    for (const [name, text] of Object.entries(spec.grants)) {
      if (name === "conversation") throw new WardenError("USAGE", `a grant cannot be named "conversation"`);
      const { kind, grant } = kernel.parseSpec(text, {
        cwd: this.host.cwd,
        owner: spec.name,
        identity: `agent:${spec.name}`,
      });
      await kernel.grant(record, name, kind, grant);
    }
  }
}

/** A loaded tool as an agent's tool target. */
function toolTarget(tool: Tool | undefined): ToolTarget | undefined {
  if (!tool) return undefined;
  return {
    definition: tool.definition,
    call: (input, context) => tool.call(input, { session: context.session }),
  };
}

/** The tools a sandbox holds live (unrevoked) handles for, by name. */
function heldTools(record: SandboxRecord | undefined): string[] {
  if (!record) return [];
  const names: string[] = [];
  for (const [name, fd] of record.named) {
    const handle = record.table.get(fd);
    if (handle && !handle.revoked && handle.kind.kind === "tool" && name.startsWith(TOOL_HANDLE_PREFIX))
      names.push((handle.grant.scope as { tool: string }).tool);
  }
  return names;
}

/** A journaled message in the CLI's JSON form (snake_case tool fields, as the issue fixes them). */
function shown(message: Message): ShownMessage {
  switch (message.role) {
    case "assistant":
      return {
        role: "assistant",
        content: message.content,
        ...(message.toolCalls?.length ? { tool_calls: message.toolCalls } : {}),
      };
    case "tool":
      return { role: "tool", content: message.content, tool_call_id: message.toolCallId };
    default:
      return { role: message.role, content: message.content };
  }
}
