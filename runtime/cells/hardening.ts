// How a cell process is started, with the least the host will give it: an explicit environment, resource
// limits, no new privileges, and a bubblewrap sandbox where present. Detects each layer and reports it.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, realpathSync } from "node:fs";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { WardenError } from "../errors.ts";
import { ownModule, PACKAGE_ROOT } from "../own-files.ts";

export type BwrapMode = "auto" | "require" | "off";

export interface HardeningOptions {
  /** "auto" (default): use bubblewrap when it works here; "require": refuse to start cells without it. */
  bwrap?: BwrapMode;
}

export interface Layer {
  name:
    | "environment"
    | "heap"
    | "rlimits"
    | "no-new-privileges"
    | "bubblewrap"
    | "seccomp"
    | "process-memory";
  active: boolean;
  detail: string;
}

export interface CellLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  layers: Layer[];
}

/** Where warden's own code lives: the only part of the filesystem a bubblewrapped cell sees, read-only. */
const ROOT = PACKAGE_ROOT;
const ENTRY = fileURLToPath(ownModule(import.meta.url, "./cell-main.ts"));
/** The cell's own heap (frames, bookkeeping); sandboxes' heaps are separate and limited per sandbox. */
const CELL_HEAP_MB = 256;
/** Tools are looked up in fixed system folders, never through an inherited PATH. */
const SYSTEM_BIN = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];
/**
 * No core dumps (a core holds whatever the cell held); few descriptors (a cell needs pipes and its engine's
 * files). Address space is not limited: V8 reserves far more than it uses, and measured here an isolated-vm
 * cell fails to start under RLIMIT_AS below about 16 GiB, which would bound nothing.
 */
const RLIMITS = ["--core=0", "--nofile=256"];

/** A system tool's path from fixed system folders, never through an inherited PATH; undefined if absent. */
export function systemTool(name: string): string | undefined {
  for (const dir of SYSTEM_BIN) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  return undefined;
}

/** Read-only binds for the system libraries a dynamically linked node needs; symlinked dirs stay symlinks. */
function systemBinds(): string[] {
  const args: string[] = [];
  for (const dir of ["/usr", "/lib", "/lib64", "/bin", "/sbin"]) {
    if (!existsSync(dir)) continue;
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink()) args.push("--symlink", realpathSync(dir).slice(1), dir);
    else args.push("--ro-bind", dir, dir);
  }
  args.push("--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache");
  return args;
}

function bwrapArgs(): string[] {
  const node = realpathSync(process.execPath);
  const binds = [`${ROOT}/runtime`, `${ROOT}/dist`, `${ROOT}/package.json`];
  if (existsSync(`${ROOT}/node_modules`)) binds.push(`${ROOT}/node_modules`);
  // Installed as a package, Warden's dependencies sit beside it in the project's node_modules.
  if (basename(dirname(ROOT)) === "node_modules") binds.push(dirname(ROOT));
  if (!node.startsWith(`${ROOT}/`)) binds.push(dirname(node));
  return [
    "--unshare-all", // network, pid, ipc, uts, user and cgroup namespaces: no network at all in a cell
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    // A private /tmp first, so binds below it (warden installed under /tmp) are not hidden by it.
    "--tmpfs",
    "/tmp",
    ...systemBinds(),
    ...binds.flatMap((p) => ["--ro-bind", p, p]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--chdir",
    "/",
  ];
}

let probed: { bwrap: string | undefined; reason: string } | undefined;

/** Tries bubblewrap once per process: present is not enough, namespaces may be refused by the host. */
function probeBwrap(): { bwrap: string | undefined; reason: string } {
  probed ??= tryBwrap();
  return probed;
}

function tryBwrap(): { bwrap: string | undefined; reason: string } {
  const bwrap = systemTool("bwrap");
  if (!bwrap) return { bwrap: undefined, reason: "bwrap not found (apt-get install bubblewrap)" };
  // `true` is enough to show the namespaces and binds work, and starts in a few ms where node takes tens.
  const probe = systemTool("true");
  const command = probe ? [probe] : [process.execPath, "-e", "0"];
  const result = spawnSync(bwrap, [...bwrapArgs(), "--", ...command], {
    env: {},
    timeout: 10_000,
    encoding: "utf8",
  });
  if (result.status === 0) return { bwrap, reason: "" };
  const why = (result.stderr ?? "").trim().split("\n")[0] || `exit ${result.status ?? result.signal}`;
  return { bwrap: undefined, reason: `bwrap is present but failed here: ${why}` };
}

const launches = new Map<BwrapMode, CellLaunch>();

/** The command that starts a cell, and what each hardening layer does here. Computed once per mode. */
export function cellLaunch(options: HardeningOptions = {}): CellLaunch {
  const mode = options.bwrap ?? "auto";
  const cached = launches.get(mode);
  if (cached) return cached;
  const layers: Layer[] = [
    { name: "environment", active: true, detail: "cells get an empty environment: no inherited secrets" },
    {
      name: "heap",
      active: true,
      detail: `the cell's own heap is capped at ${CELL_HEAP_MB} MiB; each sandbox has its own heap limit`,
    },
  ];
  const prefix: string[] = [];
  const prlimit = systemTool("prlimit");
  if (prlimit) prefix.push(prlimit, ...RLIMITS, "--");
  layers.push({
    name: "rlimits",
    active: prlimit !== undefined,
    detail: prlimit
      ? `prlimit ${RLIMITS.join(" ")} (no core dumps, few descriptors; address space is left alone: V8 reserves it)`
      : "prlimit (util-linux) not found: no core-dump or descriptor limits",
  });
  const { bwrap, reason } = mode === "off" ? { bwrap: undefined, reason: "turned off" } : probeBwrap();
  if (mode === "require" && !bwrap)
    throw new WardenError(
      "USAGE",
      `cells require bubblewrap but it is unavailable: ${reason}; install it or set cells.bwrap to "auto"`,
    );
  const setpriv = systemTool("setpriv");
  if (bwrap) prefix.push(bwrap, ...bwrapArgs(), "--");
  else if (setpriv) prefix.push(setpriv, "--no-new-privs", "--");
  layers.push({
    name: "no-new-privileges",
    active: bwrap !== undefined || setpriv !== undefined,
    detail: bwrap
      ? "set by bubblewrap, which also drops every capability"
      : setpriv
        ? "setpriv --no-new-privs: setuid binaries cannot raise a cell's privileges"
        : "setpriv (util-linux) not found: a cell could gain privileges through a setuid binary",
  });
  layers.push({
    name: "bubblewrap",
    active: bwrap !== undefined,
    detail: bwrap
      ? "own network (none), pid, ipc and user namespaces; sees only system libraries and warden's code, read-only"
      : `not used: ${reason}`,
  });
  layers.push({
    name: "seccomp",
    active: false,
    detail: "no syscall filter is installed (none is compiled in); namespaces and rlimits are the OS walls",
  });
  layers.push({
    name: "process-memory",
    active: false,
    detail: "no per-process memory cap: RLIMIT_AS breaks V8 and cgroups are not delegated to warden",
  });
  const [command, ...rest] = [...prefix, process.execPath];
  const launch: CellLaunch = {
    command: command!,
    args: [...rest, "--disable-warning=ExperimentalWarning", `--max-old-space-size=${CELL_HEAP_MB}`, ENTRY],
    env: {},
    layers,
  };
  launches.set(mode, launch);
  return launch;
}
