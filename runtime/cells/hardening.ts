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

/** Every directory above `paths` (not the paths themselves), parents first. */
function ancestors(paths: string[]): string[] {
  const out = new Set<string>();
  for (const path of paths) {
    const parts = path.split("/").filter((part) => part !== "");
    for (let i = 1; i < parts.length; i++) out.add(`/${parts.slice(0, i).join("/")}`);
  }
  return [...out].sort((a, b) => a.split("/").length - b.split("/").length);
}

/**
 * `drop`: bubblewrap runs as root and the cell drops to nobody inside it (setpriv, which keeps only the
 * capabilities it needs to change user until it does). Root needs no user namespace for the others, and
 * the directories bubblewrap makes above Warden's code are opened to all, so nobody can reach a checkout
 * kept below a directory only root may enter.
 */
function bwrapArgs(drop: boolean): string[] {
  const node = realpathSync(process.execPath);
  const binds = [`${ROOT}/runtime`, `${ROOT}/dist`, `${ROOT}/node_modules`, `${ROOT}/package.json`];
  if (!node.startsWith(`${ROOT}/`)) binds.push(dirname(node));
  const namespaces = drop
    ? ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    : ["--unshare-all"]; // network, pid, ipc, uts, user and cgroup namespaces: no network at all in a cell
  const caps = drop ? ["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"].flatMap((c) => ["--cap-add", c]) : [];
  // Made by bubblewrap on its own root (not in /tmp's tmpfs, not inside the system binds, read-only).
  const system = ["/usr", "/lib", "/lib64", "/bin", "/sbin"];
  const inSystem = (d: string) => system.some((t) => d === t || d.startsWith(`${t}/`));
  const dirs = drop
    ? ancestors(binds)
        .filter((d) => d !== "/tmp" && !inSystem(d))
        .flatMap((d) => ["--perms", "0755", "--dir", d])
    : [];
  return [
    ...namespaces,
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    ...caps,
    // A private /tmp first, so binds below it (warden installed under /tmp) are not hidden by it.
    ...(drop ? ["--perms", "1777"] : []),
    "--tmpfs",
    "/tmp",
    // As root, bubblewrap makes the directories above a bind for root only; nobody must see into them
    // (node reads /etc's OpenSSL config, and stops at EACCES where ENOENT would be fine).
    ...(drop ? ["--perms", "0755", "--dir", "/etc"] : []),
    ...systemBinds(),
    ...dirs,
    ...binds.flatMap((p) => ["--ro-bind", p, p]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--chdir",
    "/",
  ];
}

/** The first line a failed probe printed, or how it ended. */
function whyFailed(result: ReturnType<typeof spawnSync>): string {
  const text = String(result.stderr ?? "").trim();
  const error = text.split("\n").find((line) => /^\w*Error\b|^bwrap:|^setpriv:/.test(line));
  return (error ?? text.split("\n")[0]) || `exit ${result.status ?? result.signal}`;
}

/** What a cell must read to start: node, its entry point, the guest runtime, the engines' packages. */
function cellFiles(): string[] {
  return [ENTRY, `${ROOT}/dist/prelude.js`, `${ROOT}/node_modules/isolated-vm/package.json`];
}

/**
 * A command that fails unless the cell's files are readable where it runs. coreutils `test` asks access(2)
 * as the user it runs as, in a few ms where starting node takes tens (a `tool run` waits on this probe).
 */
function readCheck(): string[] {
  const test = systemTool("test");
  if (test) return [test, "-x", process.execPath, ...cellFiles().flatMap((f) => ["-a", "-r", f])];
  const code = `const fs = require("node:fs"); for (const p of ${JSON.stringify(cellFiles())}) fs.accessSync(p, fs.constants.R_OK);`;
  return [process.execPath, "-e", code];
}

function spawnProbe(command: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(command[0]!, command.slice(1), { env: {}, timeout: 10_000, encoding: "utf8" });
}

interface Probed {
  /** The command prefix that drops to nobody (setpriv …), if the kernel is root and it works here. */
  drop: string[] | undefined;
  dropReason: string;
  bwrap: string | undefined;
  bwrapReason: string;
}

const probes = new Map<boolean, Probed>();

/** Tries each layer once per process, as cells will run: present is not enough, the host may refuse it. */
function probe(useBwrap: boolean): Probed {
  let probed = probes.get(useBwrap);
  if (!probed) {
    probed = tryLayers(useBwrap);
    probes.set(useBwrap, probed);
  }
  return probed;
}

function tryLayers(useBwrap: boolean): Probed {
  const out: Probed = { drop: undefined, dropReason: "", bwrap: undefined, bwrapReason: "turned off" };
  const root = process.geteuid?.() === 0;
  const setpriv = systemTool("setpriv");
  const drop = root && setpriv ? [setpriv, ...DROP, "--"] : undefined;
  if (!root)
    out.dropReason = `the kernel runs as uid ${process.geteuid?.()}, not root: cells run as that user`;
  else if (!drop) out.dropReason = "setpriv (util-linux) not found: cells run as root, like the kernel";
  if (useBwrap) {
    const bwrap = systemTool("bwrap");
    if (!bwrap) out.bwrapReason = "bwrap not found (apt-get install bubblewrap)";
    else {
      // `true` shows the namespaces and binds work in a few ms where node takes tens; with a user drop,
      // node shows that nobody reads the cell's files too.
      const after = drop ? [...drop, ...readCheck()] : [systemTool("true") ?? process.execPath, "-e", "0"];
      const result = spawnProbe([bwrap, ...bwrapArgs(drop !== undefined), "--", ...after]);
      if (result.status === 0) return { ...out, drop, bwrap, bwrapReason: "" };
      out.bwrapReason = `bwrap is present but failed here: ${whyFailed(result)}`;
    }
  }
  if (drop) {
    const result = spawnProbe([...drop, ...readCheck()]);
    if (result.status === 0) return { ...out, drop };
    out.dropReason = `uid ${CELL_UID} cannot read Warden's files here (one of ${[process.execPath, ...cellFiles()].join(", ")}): cells run as root; make the checkout and every directory above it readable by all, or install bubblewrap`;
  }
  return out;
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
  const probed = probe(mode !== "off");
  const { drop, bwrap } = probed;
  layers.push({
    name: "user",
    active: drop !== undefined,
    detail: drop
      ? `cells run as uid ${CELL_UID} (nobody), with no supplementary groups and no capabilities: the kernel's /proc entries and files only root may read are out of reach`
      : `not changed: ${probed.dropReason}`,
  });
  if (mode === "require" && !bwrap)
    throw new WardenError(
      "USAGE",
      `cells require bubblewrap but it is unavailable: ${probed.bwrapReason}; install it or set cells.bwrap to "auto"`,
    );
  const setpriv = systemTool("setpriv");
  if (bwrap) prefix.push(bwrap, ...bwrapArgs(drop !== undefined), "--", ...(drop ?? []));
  else if (drop) prefix.push(...drop);
  else if (setpriv) prefix.push(setpriv, "--no-new-privs", "--");
  layers.push({
    name: "no-new-privileges",
    active: bwrap !== undefined || setpriv !== undefined,
    detail: drop
      ? "setpriv --no-new-privs, with the user change: setuid binaries cannot raise a cell's privileges"
      : bwrap
        ? "set by bubblewrap, which also drops every capability"
        : setpriv
          ? "setpriv --no-new-privs: setuid binaries cannot raise a cell's privileges"
          : "setpriv (util-linux) not found: a cell could gain privileges through a setuid binary",
  });
  layers.push({
    name: "bubblewrap",
    active: bwrap !== undefined,
    detail: bwrap
      ? `own network (none), pid, ipc${drop ? " and uts" : ", uts and user"} namespaces; sees only system libraries and warden's code, read-only`
      : `not used: ${probed.bwrapReason}`,
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
