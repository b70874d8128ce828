// The host's wall watchdog of a run or a pair. The wall limit stops programs that sleep or
// block; time a run's processes were runnable but waited for their CPU (other work held it: a
// busy machine, or the API at a higher priority than the sandboxes) is not counted: past the
// limit the watchdog grants what it can see was lost (armWallWatchdog), at most
// CPU_WAIT_CREDIT_FACTOR limits; a run past its grace is the supervisor's end.
import { performance } from "node:perf_hooks";
import type { CpuWaitMeter } from "../../sandbox/cpu-wait.js";
import type { Supervisor } from "./supervisor.js";
import { SETUP_GRACE_MS } from "./run-facts.js";

/**
 * Run-queue delay granted past the wall limit: at most this many wall limits (a starved run ends
 * by 5x). Enough for a program using all its CPU limit at a tenth of a CPU (SANDBOX_NICE 10 next
 * to one busy process of normal priority: weights 110 and 1024).
 */
export const CPU_WAIT_CREDIT_FACTOR = 4;
/** Less time left than this is not worth another timer: the wall limit holds. */
const MIN_CREDIT_MS = 5;
/** How often the watchdog looks once a run is past its wall limit (a quarter of the limit, within these bounds). */
const MIN_WINDOW_MS = 50;
const MAX_WINDOW_MS = 500;

/** A run's processes and its session's supervisor, which forks and starts it (and relays a pair's stream). */
export function withSupervisor(supervisor: Pick<Supervisor, "pid">, pids: readonly number[]): number[] {
  const own = supervisor.pid;
  return own === null ? [...pids] : [own, ...pids];
}

export interface WallWatchdog {
  /** The waiting granted so far (0 while the run is within its wall limit). */
  creditedMs(): number;
  clear(): void;
}

/** What the watchdog reads of the run besides the run-queue delays. */
export interface RunProbe {
  /** The run's CPU time so far (its cgroup). */
  cpuMs(): number;
  /** Whether one of the run's threads is runnable now (cpu-wait.ts anyRunnable). */
  runnable(): boolean;
}

/**
 * Arms the watchdog for `limitMs`. `waits` was made before the run was sent. From the limit on,
 * the watchdog looks every window: the run may go on while what it waited for its CPU covers the
 * time past the limit. Waited is the larger of (a) the run-queue delays the kernel has booked
 * (cpu-wait.ts; booked only when a thread gets its CPU back) and (b) the windows in which the
 * run was starved as it stands: a thread runnable at the window's end while the run got less
 * than half of one CPU over it (a thread starved right now has none of its wait booked yet). A
 * program that sleeps or blocks is not runnable; one that computes unhindered gets its CPU: in
 * neither case is anything granted. `onLimit` ends the run; `onGrace` runs when it still has not
 * answered SETUP_GRACE_MS after the (extended) limit.
 */
export function armWallWatchdog(limitMs: number, waits: CpuWaitMeter, probe: RunProbe, onLimit: () => void, onGrace: () => void): WallWatchdog {
  const maxCreditMs = limitMs * CPU_WAIT_CREDIT_FACTOR;
  const windowMs = Math.max(MIN_WINDOW_MS, Math.min(MAX_WINDOW_MS, Math.floor(limitMs / 4)));
  const startedAt = performance.now();
  let credited = 0;
  let starvedMs = 0;
  let last: { at: number; cpuMs: number } | null = null;
  let wall: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  const sample = () => ({ at: performance.now(), cpuMs: safeCpu(probe) });
  const arm = (ms: number) => {
    clearTimeout(wall);
    wall = setTimeout(check, Math.max(1, ms));
    clearTimeout(grace);
    grace = setTimeout(onGrace, SETUP_GRACE_MS + ms);
  };
  const check = () => {
    const now = sample();
    if (last && probe.runnable() && now.cpuMs - last.cpuMs < (now.at - last.at) / 2) starvedMs += now.at - last.at;
    last = now;
    credited = Math.min(maxCreditMs, Math.max(credited, waits.waitedMs(), starvedMs));
    const leftMs = limitMs + credited - (now.at - startedAt);
    if (leftMs < MIN_CREDIT_MS) return onLimit();
    arm(Math.min(windowMs, leftMs));
  };
  // The first window ends at the limit: its start is sampled one window before.
  const before = setTimeout(() => (last = sample()), Math.max(0, limitMs - windowMs));
  arm(limitMs);
  return {
    creditedMs: () => credited,
    clear: () => {
      clearTimeout(before);
      clearTimeout(wall);
      clearTimeout(grace);
    },
  };
}

function safeCpu(probe: RunProbe): number {
  try {
    return probe.cpuMs();
  } catch {
    return 0;
  }
}
