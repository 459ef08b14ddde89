// A cell started ahead of time for `warden tool run`, which needs exactly one: started while the rest of
// Warden is still loading, its own start-up runs alongside the kernel's instead of after it. The pool
// adopts it when it needs its first cell (see runtime/cli/early-cell.ts for where it is started).
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import type { Socket } from "node:net";
import { type CellLaunch, cellLaunch } from "./hardening.ts";

let early: { launch: CellLaunch; child: ChildProcess } | undefined;

/** The process started ahead for `launch`, if there is one and it is still running; taken once. */
export function takePrestarted(launch: CellLaunch): ChildProcess | undefined {
  const taken = early;
  early = undefined;
  if (!taken || taken.launch !== launch || taken.child.pid === undefined) return undefined;
  if (taken.child.exitCode !== null || taken.child.signalCode !== null) return undefined;
  return taken.child;
}

/** What to start ahead for a command line: nothing unless it is a `tool run` in a cell; the engine to warm. */
function plan(argv: readonly string[]): { warm: string | undefined } | undefined {
  if (argv[0] !== "tool" || argv[1] !== "run") return undefined;
  const rest = argv.slice(2);
  const value = (flag: string) => {
    const i = rest.indexOf(flag);
    if (i >= 0) return rest[i + 1];
    return rest.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  };
  if (rest.includes("--help") || rest.includes("-h") || value("--policy") !== undefined) return undefined;
  const backend = value("--backend") ?? "v8";
  if (value("--isolation") === "in-process" || backend.endsWith(":in-process")) return undefined;
  // A .wasm file runs on the wasm engine whatever --backend says: its cell starts without warming one.
  return { warm: rest.some((a) => a.endsWith(".wasm")) ? undefined : backend.split(":")[0] };
}

/** Starts the cell a `warden tool run` command line will need, if it will need one. */
export function prestartCell(argv: readonly string[]): void {
  const wanted = plan(argv);
  if (!wanted) return;
  const launch = cellLaunch();
  const args = wanted.warm ? [...launch.args, `--warm=${wanted.warm}`] : launch.args;
  const child = spawn(launch.command, args, { env: launch.env, stdio: ["pipe", "pipe", "pipe"] });
  // Never keeps the CLI alive: a cell nobody adopts ends when the CLI exits and its stdin closes.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as Socket).unref();
  // A cell that cannot start is not adopted (it has no pid); the pool then starts one and reports why.
  child.on("error", () => undefined);
  early = { launch, child };
}
