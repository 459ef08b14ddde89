// The CLI's help texts: each says what the command does, every flag, and an example that works.

/** `warden --help`, listing the registered commands. */
export function mainHelp(commands: ReadonlyArray<{ path: readonly string[]; summary: string }>): string {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length));
  const lines = commands.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`);
  return `warden: run untrusted tools in sandboxes that hold only the capabilities you grant.

Usage:
  warden <command> [options]

Commands:
${lines.join("\n")}

Options:
  -h, --help        show help (also after any command: warden tool run --help)
  --version         print the version

Errors: on failure the last line on stderr is {"error":{"code":"…","message":"…"}}.
Exit codes: 0 success, 1 the tool failed or was denied, 2 bad usage.
`;
}

export const TOOL_RUN_HELP = `warden tool run: run a tool once and print its output as JSON on stdout.

Usage:
  warden tool run FILE [--grant NAME=SPEC]... [--input JSON | --input -] [limits]

FILE is an ES module (.js, .mjs, .ts, .mts) whose default export is defineTool({...}), or a WebAssembly
component (.wasm) that exports warden:tool/tool (see tools-wasm/wit/warden.wit).

Options:
  --grant NAME=SPEC   give the tool's capability NAME a handle; repeat for each capability
  --secret NAME=SRC   define a secret the kernel holds: NAME=env:VAR (its environment) or NAME=file:PATH
  --header GRANT=H    a header the kernel adds to every request of net grant GRANT, e.g.
                      'api=Authorization: Bearer \${secret:github}'; the tool never sees its value, and may
                      not set that header itself
  --input JSON        the tool's input (default {}); "-" reads it from stdin
  --timeout-ms N      wall-time limit per call (default 10000)
  --cpu-ms N          CPU-time limit per call (default 2000)
  --memory-mb N       heap limit (default 64, at least 8)
  --output-kb N       largest output (default 1024)
  --backend NAME      sandbox backend: v8 (default), V8 isolates; quickjs, the QuickJS interpreter inside
                      WebAssembly (a second wall, no native addon, slower); wasm, for .wasm components
  --isolation MODE    cell (default): the sandbox runs in a supervised child process, so a crash or a
                      runaway builtin cannot take warden down; in-process: in warden's own process
  --state DIR         where kv data and the audit log are kept (default .warden)

Grant SPECs:
  fs:RIGHTS:PATH      a directory, or one file the tool names by its name; RIGHTS from
                      read,write,create,delete,list   e.g. fs:read,list:./docs or fs:read:./config.json
  net:METHODS:ORIGINS origins (comma-separated); METHODS e.g. GET,POST         e.g. net:GET:https://api.example.com
  kv[:RIGHTS]         the tool's private key-value store; RIGHTS from read,write,delete,list
  clock[:read[:RES]]  the time, rounded to RES (1ms, 100ms or 1s; default 100ms); rights read,sleep
  log[:write]         log lines to stderr
  model:PROVIDER:MODEL a model (openai, anthropic) or model:scripted:FILE; options ;maxTokens=N;totalCost=D...
                      e.g. model:openai:gpt-4o-mini;maxTokens=512 (README, Models)

Example:
  warden tool run examples/tools/read-file.ts --grant files=fs:read:examples/data --input '{"path":"hello.txt"}'
  warden tool run examples/tools/read-file.ts --grant files=fs:read:examples/data --input '{"path":"hello.txt"}' --backend quickjs
  warden tool run tools-wasm/build/read-file.wasm --grant files=fs:read:examples/data --input '{"path":"hello.txt"}'
`;

export const AGENT_RUN_HELP = `warden agent run: run one of a policy's agents on a task and print its answer.

Usage:
  warden agent run NAME --policy FILE --task TEXT [--state DIR]

Starts a session of the agent the policy names NAME: its instructions and the task are journaled first,
then its program (the standard loop, or its defineAgent module's run) runs in its own sandbox holding only
its model, the tools the policy lets it call and its own conversation. Every message is durable in DIR
before it is used; a session whose kernel died is continued with warden agent resume.
Prints one JSON object on stdout: {"session": "<id>", "answer": "<the final answer>"}.

Options:
  --policy FILE   the policy that names the agent (agents: beside tools:)
  --task TEXT     the task, the session's first user message; "-" reads it from stdin
  --state DIR     where sessions, kv data and the audit log are kept (default .warden)

Example:
  warden agent run reader --policy examples/agents/policy.yaml --task 'What does hello.txt say?'
`;

export const AGENT_PS_HELP = `warden agent ps: list the agent sessions kept in a state directory.

Usage:
  warden agent ps [--state DIR] [--json]

Options:
  --state DIR   where sessions are kept (default .warden)
  --json        a JSON array of {session, agent, status, parent}; status is one of running, waiting,
                done, failed, cancelled, interrupted (interrupted: its kernel stopped; resume it)

Reads the session store only: no policy is loaded and nothing runs.

Example:
  warden agent ps --json
`;

export const AGENT_SHOW_HELP = `warden agent show: print one session's conversation as journaled.

Usage:
  warden agent show SESSION [--state DIR] [--json]

Options:
  --state DIR   where sessions are kept (default .warden)
  --json        {session, agent, status, messages: [{role, content, tool_calls?, tool_call_id?}],
                children: [...]}, roles system, user, assistant and tool

Reads the session store only: no policy is loaded and nothing runs.

Example:
  warden agent show s_0123456789abcdef --json
`;

export const AGENT_RESUME_HELP = `warden agent resume: continue a session whose kernel stopped, and print what run would.

Usage:
  warden agent resume SESSION [--state DIR] [--model SPEC]

Re-launches the session's program on its journal. A tool call whose result was never journaled is not run
again: the model is told its outcome is unknown, unless the tool declares itself idempotent.
Prints {"session": "<id>", "answer": "<the final answer>"}.

Options:
  --state DIR     where sessions are kept (default .warden)
  --model SPEC    move the conversation to another model from here on (a model grant spec, e.g.
                  model:openai:gpt-4o); the conversation is provider-neutral, so it carries over
  --policy FILE   the policy that defines the session's agent (default: the one warden agent run
                  recorded in DIR for that agent)

Example:
  warden agent resume s_0123456789abcdef
`;

export const AGENT_REPLAY_HELP = `warden agent replay: re-run a session from its journal and check every step matches.

Usage:
  warden agent replay SESSION [--state DIR]

Runs the session's program again with the model's journaled answers and the tools' journaled results in
place of real calls (nothing reaches a model or a tool), and prints {"session", "matched", "steps": [{kind,
index, matched, detail?}]}. Exit code 0 when every step matched; 1 when one did not. With the scripted
model a session replays bit for bit.

Options:
  --state DIR     where sessions are kept (default .warden)
  --policy FILE   the policy that defines the session's agent (default: the one warden agent run
                  recorded in DIR for that agent)

Example:
  warden agent replay s_0123456789abcdef
`;
