// Judging is batch work; the API on the same host is interactive. The evaluator lowers its own
// CPU priority once at start, so a busy judge never delays a submission POST or a socket event:
// everything it starts later (the sandbox supervisor, compilers, the judged programs, checker
// threads) inherits the lower priority through fork. CPU time, which the time verdicts use, is
// unaffected; wall time only grows when something of higher priority wants the same CPU.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

export interface PriorityOutcome {
  /** The nice value asked for (0: nothing was changed). */
  nice: number;
  /** Threads of this process now at that nice value (or a higher one they already had). */
  threads: number;
  /**
   * The session's autogroup (kernel.sched_autogroup_enabled): with it on, the scheduler first
   * shares a CPU between sessions and applies nice only inside a session, so a session leader
   * sets its autogroup's nice too. "not-leader": this process shares a session with whoever
   * started it (a shell, a test runner), whose priority is not ours to change.
   */
  autogroup: "set" | "not-leader" | "absent" | "refused";
}

const PROC_SELF = "/proc/self";

/**
 * Lowers this process's CPU priority to `nice` (0-19; 0 changes nothing). Never raises it: a
 * process already started at a higher nice value keeps its own. Linux only; elsewhere (no
 * /proc) the main thread alone is changed.
 */
export function lowerOwnPriority(nice: number): PriorityOutcome {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError(`nice must be an integer from 0 to 19, not ${nice}`);
  if (nice === 0) return { nice, threads: 0, autogroup: "absent" };
  // setpriority(PRIO_PROCESS, tid) changes one thread on Linux; the threads alive now are set one
  // by one, and threads and processes created later inherit the main thread's value.
  let threads = 0;
  for (const tid of threadIds()) {
    try {
      if (getPriority(tid) < nice) setPriority(tid, nice);
      threads += 1;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return { nice, threads, autogroup: setAutogroupNice(nice) };
}

function threadIds(): number[] {
  try {
    return readdirSync(`${PROC_SELF}/task`).map(Number).filter((tid) => Number.isInteger(tid) && tid > 0);
  } catch {
    return [process.pid];
  }
}

function setAutogroupNice(nice: number): PriorityOutcome["autogroup"] {
  let current: string;
  try {
    current = readFileSync(`${PROC_SELF}/autogroup`, "utf8");
  } catch {
    return "absent";
  }
  if (sessionId() !== process.pid) return "not-leader";
  const already = /nice\s+(-?\d+)/.exec(current);
  if (already && Number(already[1]) >= nice) return "set";
  try {
    writeFileSync(`${PROC_SELF}/autogroup`, String(nice));
    return "set";
  } catch {
    return "refused";
  }
}

/** Field 6 of /proc/self/stat; the command name before it is parenthesised and may hold spaces. */
function sessionId(): number | null {
  try {
    const stat = readFileSync(`${PROC_SELF}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const session = Number(fields[3]);
    return Number.isInteger(session) ? session : null;
  } catch {
    return null;
  }
}
