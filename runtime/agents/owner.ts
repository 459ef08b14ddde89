// Who runs a session: this process, named so that another process can tell whether it is still alive. A session
// a store holds as `running` whose owner is gone (its kernel died, even with -9) reads as `interrupted`.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), so a pid reused by a later
 * process is not taken for the owner; "" where /proc is not there (the pid alone is checked then).
 */
function startTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    // No /proc at all (not Linux): the pid alone says. No entry for this pid: the process is gone.
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" && readable("/proc/self/stat") ? undefined : "";
  }
  // The command name (field 2) is in parentheses and may hold spaces; the fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // A zombie (state Z) has died and only waits for its parent to reap it.
  if (fields[0] === "Z") return undefined;
  return fields[19] ?? "";
}

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: a process is there, owned by another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

let self: string | undefined;

/** This process as a session owner: `host/pid/start`. */
export function thisProcess(): string {
  self ??= `${hostname()}/${process.pid}/${startTime(process.pid) ?? ""}`;
  return self;
}

/**
 * Whether the owner that wrote a session is certainly gone. An owner on another host cannot be checked from
 * here, and one not recorded (a store written before owners were) is not known to be gone: both read as alive.
 */
export function ownerGone(owner: string | null | undefined): boolean {
  if (!owner) return false;
  const [host, pidText, start] = owner.split("/");
  if (host !== hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (owner === thisProcess()) return false;
  const now = startTime(pid);
  if (now === undefined) return true;
  if (start && now && now !== start) return true;
  return !pidAlive(pid);
}
