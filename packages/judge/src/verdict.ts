// Verdicts from facts, in one place. Engines report what was measured (RunOutcome);
// these pure functions alone decide which limit a run hit, the same way for every
// engine (the go-judge model: the executor measures, its caller judges).
import type { TestResult, TestStatus } from "@sonocode/contracts";
import type { LanguageSpec } from "./languages.js";
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
 *   above the limit, so a real SIGXCPU always comes with measured time over it;
 * - wall: the wall watchdog fired, or the wall time over the limit once the time the program
 *   waited for a CPU held by other work (cpuWaitMs) is left out: the wall limit is for programs
 *   that sleep or block, not for programs a busy machine starved.
 */
export function classifyRun(outcome: RunOutcome, limits: RunLimits): LimitHit {
  if (outcome.oomKilled || (outcome.memoryLimitHit && !exitedCleanly(outcome))) return "memory";
  if (outcome.watchdog === "output" || outcome.stdoutBytes + outcome.stderrBytes > limits.outputBytes) return "output";
  if (outcome.watchdog === "cpu" || outcome.cpuTimeMs > limits.cpuTimeMs) return "time";
  if (outcome.watchdog === "wall" || outcome.wallTimeMs - (outcome.cpuWaitMs ?? 0) > limits.wallTimeMs) return "wall";
  return null;
}

/** Memory to show for a run: its peak, and at least the cgroup's peak when the limit was what stopped it. */
export function reportedMemoryKb(outcome: RunOutcome, limit: LimitHit): number {
  const kb = limit === "memory" ? Math.max(outcome.memoryKb, outcome.cgroupPeakKb) : outcome.memoryKb || outcome.cgroupPeakKb;
  return Math.max(0, Math.round(kb));
}

/** How much of stderr's head and tail is searched for an out-of-memory signature (a runtime prints it last, or alone). */
const OOM_SEARCH_BYTES = 64 * 1024;

/** The runtime's own allocator gave up (its stderr signature) and the run failed because of it. */
export function ranOutOfMemory(outcome: RunOutcome, language: Pick<LanguageSpec, "outOfMemory">): boolean {
  if (exitedCleanly(outcome)) return false;
  const { stderr } = outcome;
  // Bounded, whatever an engine keeps of stderr: this runs on the judge's event loop.
  const parts = stderr.length <= 2 * OOM_SEARCH_BYTES ? [stderr] : [stderr.subarray(0, OOM_SEARCH_BYTES), stderr.subarray(stderr.length - OOM_SEARCH_BYTES)];
  return (language.outOfMemory ?? []).some((signature) => parts.some((part) => part.includes(signature)));
}

/**
 * A test's status from the facts, before any output is checked: null means the program ran
 * to a clean exit within every limit and its output decides (Success or WA).
 */
export function runStatus(outcome: RunOutcome, limit: LimitHit, language: Pick<LanguageSpec, "outOfMemory">): TestStatus | null {
  switch (limit) {
    case "memory":
      return "MLE";
    case "time":
    case "wall":
      return "TLE";
    case "output":
      return "OLE";
    case null:
      break;
  }
  if (exitedCleanly(outcome)) return null;
  return ranOutOfMemory(outcome, language) ? "MLE" : "RE";
}

/**
 * One test's result as the user sees it. A hidden test reveals only status, time and memory:
 * an exit code or signal would let `exit(input[k])` read its input a byte per submission.
 */
export function testResult(index: number, status: TestStatus, outcome: RunOutcome, limit: LimitHit, hidden: boolean): TestResult {
  const result: TestResult = {
    index,
    status,
    timeMs: Math.max(0, Math.round(outcome.cpuTimeMs)),
    wallTimeMs: Math.max(0, Math.round(outcome.wallTimeMs)),
    memoryKb: reportedMemoryKb(outcome, limit),
  };
  if (status === "RE" && !hidden) {
    if (outcome.signal) result.signal = outcome.signal;
    else if (outcome.exitCode !== null) result.exitCode = outcome.exitCode;
  }
  return result;
}

/** The verdict's message for the first failing test; the detail of a runtime error only for a visible test. */
export function failureMessage(status: TestStatus, index: number, outcome: RunOutcome, hidden: boolean): string | null {
  const test = `test ${index + 1}`;
  switch (status) {
    case "Success":
      return null;
    case "WA":
      return `Wrong answer on ${test}`;
    case "TLE":
      return `Time limit exceeded on ${test}`;
    case "MLE":
      return `Memory limit exceeded on ${test}`;
    case "OLE":
      return `Output limit exceeded on ${test}`;
    case "RE":
      if (hidden) return `Runtime error on ${test}`;
      return outcome.signal
        ? `Runtime error on ${test}: killed by ${outcome.signal}`
        : `Runtime error on ${test}: exit code ${outcome.exitCode ?? "unknown"}`;
  }
}
