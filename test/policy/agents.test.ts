// Agents in policies: what an agent entry compiles to, every problem at its line, and explain and diff in words.
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { WardenError } from "../../runtime/errors.ts";
import { loadPolicy } from "../../runtime/policy/compile.ts";
import { diffPolicies, formatChanges } from "../../runtime/policy/diff.ts";
import { explainPolicy } from "../../runtime/policy/explain.ts";
import { tempDir } from "../support/tools.ts";
import { testEnv } from "./support/env.ts";

let dir = "";

beforeAll(() => {
  dir = realpathSync(tempDir("warden-policy-agents-"));
  mkdirSync(join(dir, "agents"));
  writeFileSync(join(dir, "tool.js"), "export default 1;\n");
  writeFileSync(join(dir, "agents", "reader.ts"), "export default 1;\n");
  writeFileSync(join(dir, "reader.script.yaml"), "reader:\n  - text: done\n");
});

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

const load = (name: string) => loadPolicy(name, testEnv(), dir);

function problemsOf(name: string): string[] {
  try {
    load(name);
  } catch (error) {
    if (error instanceof WardenError && error.code === "POLICY_INVALID")
      return error.message.split("\n").slice(1);
    throw error;
  }
  throw new Error("the policy loaded");
}

const TOOLS = `version: 1
tools:
  read-file: { source: ./tool.js }
  list-dir: { source: ./tool.js }
  write-file: { source: ./tool.js }
servers:
  gh: { command: [gh-mcp], tools: [search_issues] }
`;

describe("an agent compiles to the spec the runtime is given", () => {
  test("the model's script path is made absolute, tools and budgets kept, model: prefix optional", () => {
    write(
      "ok.yaml",
      `${TOOLS}agents:
  reader:
    description: Reads files.
    instructions: Answer questions about the files you can read.
    model: scripted:./reader.script.yaml
    tools: [read-file, list-dir, gh__search_issues]
    limits: { turns: 8, tokens: 20000, wallMs: 60000, contextTokens: 8000 }
    context: { overflow: drop-tool-results }
  coder:
    source: ./agents/reader.ts
    model: model:openai:gpt-4o;totalTokens=1000
    grants:
      notes: { kv: {} }
`,
    );
    const policy = load("ok.yaml");
    expect(policy.agents.get("reader")!.spec).toEqual({
      name: "reader",
      description: "Reads files.",
      instructions: "Answer questions about the files you can read.",
      model: `scripted:${join(dir, "reader.script.yaml")}`,
      tools: ["read-file", "list-dir", "gh__search_issues"],
      limits: { turns: 8, tokens: 20000, wallMs: 60000, contextTokens: 8000 },
      context: { overflow: "drop-tool-results" },
    });
    expect(policy.agents.get("coder")!.spec).toEqual({
      name: "coder",
      model: "openai:gpt-4o;totalTokens=1000",
      tools: [],
      source: join(dir, "agents", "reader.ts"),
      grants: { notes: "kv:read,write,delete,list" },
    });
  });
});

describe("every problem of an agent, at its line and field", () => {
  test("an unknown tool is a problem at its line, naming what the policy offers", () => {
    write(
      "tools.yaml",
      `${TOOLS}agents:
  reader:
    instructions: Read.
    model: scripted:./reader.script.yaml
    tools: [read-file, delete-all, gh__create_issue]
`,
    );
    const offered = "(read-file, list-dir, write-file, gh__search_issues)";
    expect(problemsOf("tools.yaml")).toEqual([
      `tools.yaml:12:24: agents.reader.tools[1]: no tool "delete-all" in this policy; an agent calls tools named in tools: or, as SERVER__TOOL, in servers: ${offered}`,
      `tools.yaml:12:36: agents.reader.tools[2]: no tool "gh__create_issue" in this policy; an agent calls tools named in tools: or, as SERVER__TOOL, in servers: ${offered}`,
    ]);
  });

  test("what the engine would not enforce is refused: fields it does not know, grants the standard loop would not use, an unpriced cost", () => {
    write(
      "wish.yaml",
      `${TOOLS}agents:
  a:
    instructions: Read.
    model: scripted:./reader.script.yaml
    memory: long-term
  b:
    instructions: Read.
    model: scripted:./reader.script.yaml
    grants: { notes: { kv: {} } }
  c:
    instructions: Read.
    model: scripted:./reader.script.yaml
    context: { overflow: summarise }
  d:
    model: scripted:./reader.script.yaml
  e:
    instructions: Read.
    model: scripted:./reader.script.yaml
    limits: { turns: 0, context: 10 }
    context: { overflow: forget }
`,
    );
    expect(problemsOf("wish.yaml")).toEqual([
      'wish.yaml:12:5: agents.a.memory: unknown field "memory" in an agent; valid fields: description, instructions, model, tools, source, grants, backend, limits, context',
      "wish.yaml:16:13: agents.b.grants: grants are handles for an agent's own program (source); the standard loop uses only its model and tools",
      "wish.yaml:20:14: agents.c.context: context.overflow applies when the conversation would pass limits.contextTokens; set that too",
      "wish.yaml:22:5: agents.d.instructions: an agent needs instructions, or a source module whose defineAgent gives them",
      "wish.yaml:26:22: agents.e.limits.turns: Too small: expected number to be >=1",
      'wish.yaml:26:25: agents.e.limits.context: unknown field "context" in an agent\'s limits; valid fields: turns, tokens, cost, wallMs, contextTokens',
      "wish.yaml:27:26: agents.e.context.overflow: overflow is one of refuse, drop-tool-results, summarise",
    ]);
  });

  test("a bad model spec, a missing script or module, a name shared with a tool, a cost budget the runner would not enforce", () => {
    write(
      "files.yaml",
      `${TOOLS}agents:
  a:
    instructions: Read.
    model: gemini:pro
  b:
    instructions: Read.
    model: scripted:./missing.yaml
  c:
    source: ./agents/missing.ts
    model: scripted:./reader.script.yaml
  read-file:
    instructions: Read.
    model: scripted:./reader.script.yaml
  e:
    instructions: Read.
    model: openai:gpt-4o
    limits: { cost: 0.5 }
`,
    );
    const problems = problemsOf("files.yaml");
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(
      /^files.yaml:11:12: agents.a.model: bad model grant "model:gemini:pro": it names no provider/,
    );
    expect(problems[1]).toBe(
      `files.yaml:14:12: agents.b.model: no script file at ${dir}/missing.yaml; a scripted model's path is relative to the policy file`,
    );
    expect(problems[2]).toBe(
      `files.yaml:16:13: agents.c.source: no agent module at ${dir}/agents/missing.ts; source is relative to the policy file`,
    );
    expect(problems[3]).toBe(
      'files.yaml:18:3: agents.read-file: an agent and a tool cannot share the name "read-file": warden mcp serve offers both as tools',
    );
    expect(problems[4]).toBe(
      "files.yaml:24:21: agents.e.limits.cost: an agent's cost budget is not enforced yet; put it on the model grant instead: openai:gpt-4o;totalCost=0.5",
    );
  });
});

describe("explain and diff cover agents like tools", () => {
  const base = `${TOOLS}agents:
  reader:
    instructions: Answer questions about the files you can read.
    model: scripted:./reader.script.yaml
    tools: [read-file, list-dir]
    limits: { turns: 8, contextTokens: 8000 }
`;

  test("explain: the model, the tools it may call, what it may not, its budgets", () => {
    write("explain.yaml", base);
    const text = explainPolicy(load("explain.yaml"), undefined, "reader");
    expect(text).toMatch(
      /^Agent "reader" \(the standard loop; backend default; model scripted:.\/reader.script.yaml\)\n {2}It may:\n {4}- model: complete conversations with the scripted model/,
    );
    expect(text).toContain(
      "    - call read-file and list-dir, each in its own sandbox with that tool's grants; its model sees these tools and no others\n",
    );
    expect(text).toContain(
      "    - call any other tool: such a call comes back to its model as a tool error, and the session goes on\n",
    );
    expect(text).toContain(
      "  Budgets per session: 8 turns; its conversation may grow to 8000 tokens, then the session is refused (LIMIT_EXCEEDED) (the instructions are never cut).\n",
    );
    expect(explainPolicy(load("explain.yaml"))).toContain('Agent "reader"');
  });

  test("diff: a tool more is a +, a budget raised is a +, a budget set is a -, removal is a -", () => {
    write("before.yaml", base);
    write(
      "after.yaml",
      base
        .replace("tools: [read-file, list-dir]", "tools: [read-file, write-file]")
        .replace("turns: 8", "turns: 20, tokens: 5000")
        .replace("contextTokens: 8000 }", "contextTokens: 8000 }\n    context: { overflow: summarise }"),
    );
    const changes = formatChanges(diffPolicies(load("before.yaml"), load("after.yaml")));
    expect(changes).toBe(
      [
        "+ agent reader: may now call write-file",
        "- agent reader: may no longer call list-dir",
        "+ agent reader: turns 8 -> 20",
        "- agent reader: tokens no limit -> 5000",
        "~ agent reader: context overflow refuse -> summarise",
        "",
      ].join("\n"),
    );
    write("none.yaml", TOOLS);
    expect(formatChanges(diffPolicies(load("before.yaml"), load("none.yaml")))).toBe(
      "- agent reader: no longer runs under this policy (removed)\n",
    );
    expect(formatChanges(diffPolicies(load("none.yaml"), load("before.yaml")))).toMatch(
      /^\+ agent reader: now runs \(added\), calling read-file and list-dir; model: complete conversations with the scripted model .*; budgets: 8 turns; /,
    );
  });
});
