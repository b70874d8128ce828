// The host's wall watchdog of a run or a pair. The wall limit stops programs that sleep or
// block; time a run's processes were runnable but waited for their CPU (other work held it: a
// busy machine, or the API at a higher priority than the judge) is not counted. At the limit
// the watchdog reads the run-queue delay (cpu-wait.ts) and grants what was lost, at most
// CPU_WAIT_CREDIT_FACTOR limits, then looks again; a run past its grace is the supervisor's end.
import type { CpuWaitMeter } from "../../sandbox/cpu-wait.js";
import { SETUP_GRACE_MS } from "./run-facts.js";

/**
 * Run-queue delay granted past the wall limit: at most this many wall limits (a starved run ends
 * by 5x). Enough for a program using all its CPU limit at a tenth of a CPU (SANDBOX_NICE 10 next
 * to one busy process of normal priority: weights 110 and 1024).
 */
export const CPU_WAIT_CREDIT_FACTOR = 4;
/** Less delay than this is not worth another timer: the wall limit holds. */
const MIN_CREDIT_MS = 5;

export interface WallWatchdog {
  /** The delay granted so far (0 while the run is within its wall limit). */
  creditedMs(): number;
  clear(): void;
}

/**
 * Arms the watchdog for `limitMs`. `waits` was made before the run was sent (so the run's init
 * forked ahead is its baseline, not the program); `onLimit` ends the run; `onGrace` runs when
 * it still has not answered SETUP_GRACE_MS after the (extended) limit.
 */
export function armWallWatchdog(limitMs: number, waits: CpuWaitMeter, onLimit: () => void, onGrace: () => void): WallWatchdog {
  const maxCreditMs = limitMs * CPU_WAIT_CREDIT_FACTOR;
  let credited = 0;
  let wall: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    wall = setTimeout(atLimit, ms);
    clearTimeout(grace);
    grace = setTimeout(onGrace, SETUP_GRACE_MS + ms);
  };
  const atLimit = () => {
    const more = Math.min(waits.waitedMs(), maxCreditMs) - credited;
    if (more < MIN_CREDIT_MS) return onLimit();
    credited += more;
    arm(more);
  };
  arm(limitMs);
  return {
    creditedMs: () => credited,
    clear: () => {
      clearTimeout(wall);
      clearTimeout(grace);
    },
  };
}
