// How a cell process is started, with the least the host will give it: an explicit environment, resource
// limits, an unprivileged user, no new privileges, and a bubblewrap sandbox where present. Detects each
// layer and reports it.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, realpathSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { WardenError } from "../errors.ts";

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
    | "user"
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
const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const ENTRY = fileURLToPath(new URL("./cell-main.ts", import.meta.url));
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
/**
 * A privileged kernel's cells run as nobody (65534): as root, a cell could read the kernel's
 * /proc/PID/environ (its secrets), every file, and talk to what root may. setpriv changes user before node
 * starts, drops the supplementary groups and every capability a later exec could regain.
 */
const CELL_UID = 65534;
const DROP = [
  `--reuid=${CELL_UID}`,
  `--regid=${CELL_UID}`,
  "--clear-groups",
  "--inh-caps=-all",
  "--bounding-set=-all",
  "--no-new-privs",
];

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
  const binds = [`${ROOT}/runtime`, `${ROOT}/dist`, `${ROOT}/node_modules`, `${ROOT}/package.json`];
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
function probeBwrap(drop: string[]): { bwrap: string | undefined; reason: string } {
  probed ??= tryBwrap(drop);
  return probed;
}

/** The first line a failed probe printed, or how it ended. */
function whyFailed(result: ReturnType<typeof spawnSync>): string {
  return (
    String(result.stderr ?? "")
      .trim()
      .split("\n")[0] || `exit ${result.status ?? result.signal}`
  );
}

/** The files a cell reads as it starts: node, its entry point, the guest runtime, the engines' packages. */
function cellFiles(): string[] {
  return [process.execPath, ENTRY, `${ROOT}/dist`, `${ROOT}/node_modules/isolated-vm/package.json`];
}

let dropped: { drop: string[] | undefined; reason: string } | undefined;

/**
 * Whether cells can run as nobody here, tried once per process: as nobody, node must start and read
 * Warden's files (a checkout below a directory only root may enter, like /root, cannot be).
 */
function probeDrop(): { drop: string[] | undefined; reason: string } {
  dropped ??= tryDrop();
  return dropped;
}

function tryDrop(): { drop: string[] | undefined; reason: string } {
  if (process.geteuid?.() !== 0)
    return {
      drop: undefined,
      reason: `the kernel runs as uid ${process.geteuid?.()}, not root: cells run as that user`,
    };
  const setpriv = systemTool("setpriv");
  if (!setpriv)
    return { drop: undefined, reason: "setpriv (util-linux) not found: cells run as root, like the kernel" };
  const drop = [setpriv, ...DROP, "--"];
  const check = `for (const p of ${JSON.stringify(cellFiles())}) require("node:fs").accessSync(p, require("node:fs").constants.R_OK);`;
  const result = spawnSync(drop[0]!, [...drop.slice(1), process.execPath, "-e", check], {
    env: {},
    timeout: 10_000,
    encoding: "utf8",
  });
  if (result.status === 0) return { drop, reason: "" };
  const why = whyFailed(result).replace(/^.*Error: /, "");
  return {
    drop: undefined,
    reason: `uid ${CELL_UID} cannot read Warden's files here (${why}): cells run as root; make the checkout readable by all users (every directory above it too)`,
  };
}

function tryBwrap(drop: string[]): { bwrap: string | undefined; reason: string } {
  const bwrap = systemTool("bwrap");
  if (!bwrap) return { bwrap: undefined, reason: "bwrap not found (apt-get install bubblewrap)" };
  // `true` is enough to show the namespaces and binds work, and starts in a few ms where node takes tens.
  // Run as the cell will be: after the user drop, so bubblewrap itself is unprivileged.
  const probe = systemTool("true");
  const command = probe ? [probe] : [process.execPath, "-e", "0"];
  const [first, ...rest] = [...drop, bwrap, ...bwrapArgs(), "--", ...command];
  const result = spawnSync(first!, rest, {
    env: {},
    timeout: 10_000,
    encoding: "utf8",
  });
  if (result.status === 0) return { bwrap, reason: "" };
  return { bwrap: undefined, reason: `bwrap is present but failed here: ${whyFailed(result)}` };
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
  const user = probeDrop();
  if (user.drop) prefix.push(...user.drop);
  layers.push({
    name: "user",
    active: user.drop !== undefined,
    detail: user.drop
      ? `cells run as uid ${CELL_UID} (nobody), with no supplementary groups and no capabilities: the kernel's files, /proc entries and root-only files are out of reach`
      : `not changed: ${user.reason}`,
  });
  const { bwrap, reason } =
    mode === "off" ? { bwrap: undefined, reason: "turned off" } : probeBwrap(user.drop ?? []);
  if (mode === "require" && !bwrap)
    throw new WardenError(
      "USAGE",
      `cells require bubblewrap but it is unavailable: ${reason}; install it or set cells.bwrap to "auto"`,
    );
  const setpriv = systemTool("setpriv");
  if (bwrap) prefix.push(bwrap, ...bwrapArgs(), "--");
  else if (setpriv && !user.drop) prefix.push(setpriv, "--no-new-privs", "--");
  layers.push({
    name: "no-new-privileges",
    active: bwrap !== undefined || setpriv !== undefined,
    detail: bwrap
      ? "set by bubblewrap, which also drops every capability"
      : user.drop
        ? "setpriv --no-new-privs, with the user change: setuid binaries cannot raise a cell's privileges"
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
