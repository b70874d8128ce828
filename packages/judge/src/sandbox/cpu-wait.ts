// How long a run's processes were ready to run but waited for a CPU that other work held: the
// kernel's per-task run-queue delay (second field of /proc/<pid>/schedstat, nanoseconds since
// the task started). The wall limit is there to stop programs that sleep or block; a program
// that was runnable and starved (a busy machine, the API at a higher priority than the judge)
// is not one of them, so the wall watchdog does not count this time (supervised-session.ts).
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** Run-queue delay of one process's main thread in ms, or null (gone, or no schedstat in this kernel). */
export function runQueueDelayMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ");
    const ns = Number(fields[1]);
    return Number.isFinite(ns) ? ns / 1e6 : null;
  } catch {
    return null;
  }
}

/**
 * Run-queue delay of each thread of one process (/proc/<pid>/task/<tid>), by tid; empty when it
 * is gone. Every thread: /proc/<pid>/schedstat is the main thread's alone, and a JVM runs main()
 * in a thread of its own, Go's runtime on threads of its own, while the main thread waits.
 */
export function threadRunQueueDelaysMs(pid: number): Map<number, number> {
  const delays = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return delays;
  }
  for (const tid of tids) {
    const ms = runQueueDelayMs(Number(tid));
    if (ms !== null) delays.set(Number(tid), ms);
  }
  return delays;
}

/**
 * How long the run's program waited for its CPU: at each reading, the growth of every thread's
 * run-queue delay since the reading before (a new thread: its whole delay), added up, and at
 * most the time since that reading. Added up, so a wait that moves from thread to thread (the
 * run's init starting the program, a runtime's start on the main thread, then the work on a
 * thread of its own; a script's commands one after another) counts whole; capped, so threads
 * waiting side by side count once and the total never exceeds the time that passed. A program
 * that sleeps or blocks waits in no run queue: it gets nothing. What a thread that ended between
 * two readings waited is lost (less granted, never more). Threads already in the group when the
 * meter is made (the run's init, forked ahead) count from their delay then: what the init waited
 * during the previous run is not this run's, what it waits while it starts the program is.
 */
export class CpuWaitMeter {
  /** Each thread's delay at the last reading. */
  private last = new Map<number, number>();
  private lastAt = performance.now();
  private total = 0;

  /** `pids` lists the run's processes at the time it is called. */
  constructor(private readonly pids: () => readonly number[]) {
    for (const pid of this.safePids()) for (const [tid, ms] of threadRunQueueDelaysMs(pid)) this.last.set(tid, ms);
  }

  /** Reads the delays again; the waiting counted so far (never decreases). */
  waitedMs(): number {
    const now = new Map<number, number>();
    let grown = 0;
    for (const pid of this.safePids()) {
      for (const [tid, ms] of threadRunQueueDelaysMs(pid)) {
        now.set(tid, ms);
        // A reused tid reads less than its predecessor did: no growth, never a negative one.
        grown += Math.max(0, ms - (this.last.get(tid) ?? 0));
      }
    }
    const at = performance.now();
    this.total += Math.min(grown, at - this.lastAt);
    this.last = now;
    this.lastAt = at;
    return this.total;
  }

  private safePids(): readonly number[] {
    try {
      return this.pids();
    } catch {
      return [];
    }
  }
}

/**
 * Whether a thread of these processes is runnable now (state R: running, or waiting for a CPU).
 * The kernel adds a wait to a thread's run-queue delay only once the thread gets its CPU, so a
 * thread starved right now shows none of its current wait there; this is what the watchdog
 * looks at besides (wall-watchdog.ts).
 */
export function anyRunnable(pids: readonly number[]): boolean {
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        if (stat.charAt(stat.lastIndexOf(")") + 2) === "R") return true;
      } catch {
        // Gone meanwhile.
      }
    }
  }
  return false;
}
