// How long a run's processes were ready to run but waited for a CPU that other work held: the
// kernel's per-task run-queue delay (second field of /proc/<pid>/schedstat, nanoseconds since
// the task started). The wall limit is there to stop programs that sleep or block; a program
// that was runnable and starved (a busy machine, the API at a higher priority than the judge)
// is not one of them, so the wall watchdog does not count this time (supervised-session.ts).
import { readdirSync, readFileSync } from "node:fs";

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
 * The largest run-queue delay among the threads of one process (/proc/<pid>/task/<tid>), or null
 * when it is gone. Every thread: /proc/<pid>/schedstat is the main thread's alone, and a JVM runs
 * main() in a thread of its own, Go's runtime on threads of its own, while the main thread waits.
 */
export function processRunQueueDelayMs(pid: number): number | null {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return runQueueDelayMs(pid);
  }
  let most: number | null = null;
  for (const tid of tids) {
    const ms = runQueueDelayMs(Number(tid));
    if (ms !== null) most = Math.max(most ?? 0, ms);
  }
  return most;
}

/**
 * The largest run-queue delay among the threads of the processes the run started: what the
 * longest-waiting of them lost to other work, each counted from its own start, so never more
 * than the time that passed. Processes already in the group when the meter is made (the run's init, forked ahead
 * and mostly asleep) are not the program's and are left out.
 */
export class CpuWaitMeter {
  private readonly before: ReadonlySet<number>;

  /** `pids` lists the run's processes at the time it is called. */
  constructor(private readonly pids: () => readonly number[]) {
    this.before = new Set(this.safePids());
  }

  waitedMs(): number {
    let most = 0;
    for (const pid of this.safePids()) {
      if (this.before.has(pid)) continue;
      most = Math.max(most, processRunQueueDelayMs(pid) ?? 0);
    }
    return most;
  }

  private safePids(): readonly number[] {
    try {
      return this.pids();
    } catch {
      return [];
    }
  }
}
