// Verdicts from facts, in one place. Engines report what was measured (RunOutcome);
// these pure functions alone decide which limit a run hit, the same way for every
// engine (the go-judge model: the executor measures, its caller judges).
import type { LimitHit, RunLimits, RunOutcome } from "./sandbox/sandbox.js";

/** The run exited on its own with status 0. */
export function exitedCleanly(outcome: RunOutcome): boolean {
  return outcome.exitCode === 0 && outcome.signal === null;
}

/**
 * Which limit a run hit, from measurements only. Order matters when several hold:
 * memory (a program killed at its memory ceiling also stops using CPU), output, CPU, wall.
 * - memory: the kernel OOM-killed it, or the cgroup limit was reached and the run then failed
 *   (a runtime whose allocation was refused at the ceiling); never guessed from a signal;
 * - time: measured CPU time over the limit, or the CPU watchdog fired. A signal alone (a
 *   program raising SIGXCPU on itself) is not a time verdict: the RLIMIT_CPU backstop sits
 *   above the limit, so a real SIGXCPU always comes with measured time over it.
 */
export function classifyRun(outcome: RunOutcome, limits: RunLimits): LimitHit {
  if (outcome.oomKilled || (outcome.memoryLimitHit && !exitedCleanly(outcome))) return "memory";
  if (outcome.watchdog === "output" || outcome.stdoutBytes + outcome.stderrBytes > limits.outputBytes) return "output";
  if (outcome.watchdog === "cpu" || outcome.cpuTimeMs > limits.cpuTimeMs) return "time";
  if (outcome.watchdog === "wall" || outcome.wallTimeMs > limits.wallTimeMs) return "wall";
  return null;
}

/** Memory to show for a run: its peak, and at least the cgroup's peak when the limit was what stopped it. */
export function reportedMemoryKb(outcome: RunOutcome, limit: LimitHit): number {
  const kb = limit === "memory" ? Math.max(outcome.memoryKb, outcome.cgroupPeakKb) : outcome.memoryKb || outcome.cgroupPeakKb;
  return Math.max(0, Math.round(kb));
}
