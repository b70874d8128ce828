// CPU time of the platform's processes over a phase, from /proc/<pid>/stat: where a burst's
// CPU goes (the launcher's API, database and sockets; the evaluator's Node event loop; the
// sandboxes, which are the evaluator's reaped children; Redis). On a shared machine this is
// steadier than wall-clock throughput: another process's load lengthens the phase, not the
// CPU seconds these processes spend.
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node runs on

export interface ProcessTimes {
  /** utime + stime of the process itself (every thread), ms. */
  ownMs: number;
  /** cutime + cstime: its children that have exited and were waited for, with theirs, ms. */
  childrenMs: number;
}

/** The fields after "(comm)", which may itself hold spaces or parentheses. */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

export function processTimes(pid: number): ProcessTimes | null {
  const fields = statFields(pid);
  if (!fields) return null;
  // After comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const tick = (i: number) => (Number(fields[i]) * 1000) / CLOCK_TICKS_PER_SECOND;
  return { ownMs: tick(11) + tick(12), childrenMs: tick(13) + tick(14) };
}

/** Live children of `pid` whose command line contains `marker`. */
export function childPids(pid: number, marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields?.[1] !== String(pid)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Busy and total CPU time of the whole machine (every process, ours and others'), ms. */
export function machineTimes(): { busyMs: number; totalMs: number } {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const totalTicks = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  const idleTicks = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busyMs: ((totalTicks - idleTicks) * 1000) / CLOCK_TICKS_PER_SECOND, totalMs: (totalTicks * 1000) / CLOCK_TICKS_PER_SECOND };
}

export interface PlatformPids {
  launcher: number;
  evaluator: number | null;
  redis: number;
}

export interface CpuSample {
  launcher: ProcessTimes | null;
  evaluator: ProcessTimes | null;
  redis: ProcessTimes | null;
  machine: { busyMs: number; totalMs: number };
}

export function sampleCpu(pids: PlatformPids): CpuSample {
  return {
    launcher: processTimes(pids.launcher),
    evaluator: pids.evaluator === null ? null : processTimes(pids.evaluator),
    redis: processTimes(pids.redis),
    machine: machineTimes(),
  };
}

/** CPU ms per submission between two samples; null where a process was not there both times. */
export interface CpuPerSubmission {
  launcherMs: number | null;
  evaluatorMs: number | null;
  sandboxesMs: number | null;
  redisMs: number | null;
  /** Every process on the machine (other users' too), and the machine's capacity over the phase. */
  machineBusyMs: number;
  machineCapacityMs: number;
}

export function cpuPerSubmission(before: CpuSample, after: CpuSample, submissions: number): CpuPerSubmission {
  const per = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : (b - a) / submissions);
  return {
    launcherMs: per(before.launcher?.ownMs, after.launcher?.ownMs),
    evaluatorMs: per(before.evaluator?.ownMs, after.evaluator?.ownMs),
    sandboxesMs: per(before.evaluator?.childrenMs, after.evaluator?.childrenMs),
    redisMs: per(before.redis?.ownMs, after.redis?.ownMs),
    machineBusyMs: (after.machine.busyMs - before.machine.busyMs) / submissions,
    machineCapacityMs: (after.machine.totalMs - before.machine.totalMs) / submissions,
  };
}
