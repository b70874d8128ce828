// Judged programs are batch work; the API on the same host is interactive. The bwrap engine
// starts each session's supervisor in a session of its own and lowers its CPU priority before
// it forks anything: its run inits, compilers and programs inherit it, so a busy judge yields
// the CPU to the API (and to anything else of normal priority). The judge's own Node process
// keeps its priority, so its event loop (BullMQ lock renewals, progress) is not starved.
// CPU time, which time verdicts use, is unaffected; wall time grows only when other work wants
// the same CPU, and the wall watchdog does not count that wait (cpu-wait.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

export interface PriorityOutcome {
  /** The process's nice value afterwards (never lowered below what it had). */
  nice: number;
  /**
   * Its session's autogroup (kernel.sched_autogroup_enabled): with autogroups the scheduler
   * first shares a CPU between sessions and applies nice values only inside one, so the nice
   * value of the process's own session counts too. "absent": no autogroups in this kernel;
   * "not-leader": the process shares another's session, whose priority is not ours to change;
   * "refused": the kernel said no (the process already made itself non-dumpable, say);
   * "unchanged": nice 0 was asked for, nothing was touched.
   */
  autogroup: "set" | "unchanged" | "absent" | "not-leader" | "refused";
}

export function assertNice(nice: number): void {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError(`nice must be an integer from 0 to 19, not ${nice}`);
}

/**
 * Lowers `pid` (a single-threaded process this judge just started, leading its own session)
 * to `nice`: setpriority on it, inherited by everything it forks from then on, and its
 * session's autogroup. Never raises a priority. Throws only when `pid` is gone.
 */
export function lowerPriority(pid: number, nice: number): PriorityOutcome {
  assertNice(nice);
  const before = getPriority(pid);
  if (nice === 0) return { nice: before, autogroup: "unchanged" };
  if (before < nice) setPriority(pid, nice);
  return { nice: Math.max(before, nice), autogroup: lowerAutogroup(pid, nice) };
}

function lowerAutogroup(pid: number, nice: number): PriorityOutcome["autogroup"] {
  let current: string;
  try {
    current = readFileSync(`/proc/${pid}/autogroup`, "utf8");
  } catch {
    return "absent";
  }
  if (sessionOf(pid) !== pid) return "not-leader";
  const already = /nice\s+(-?\d+)/.exec(current);
  if (already && Number(already[1]) >= nice) return "set";
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    return "set";
  } catch {
    return "refused";
  }
}

/** Field 6 of /proc/<pid>/stat (the command name before it is parenthesised and may hold spaces). */
function sessionOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const session = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
    return Number.isInteger(session) ? session : null;
  } catch {
    return null;
  }
}
