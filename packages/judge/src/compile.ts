// The compile step of a submission or a custom checker, with the one rule compiles need
// beyond a test run's: a compiler that hit its wall bound while barely running was held up
// by the host, not by the code it compiles.
import { COMPILE_LIMITS } from "./languages.js";
import type { LimitHit, RunOutcome, SandboxSession } from "./sandbox/sandbox.js";
import { classifyRun } from "./verdict.js";

/** A wall-bound compile that ran on a CPU for less than 1/20 of its wall time was blocked, not working. */
const STALL_CPU_SHARE = 20;

export interface CompileRun {
  outcome: RunOutcome;
  hit: LimitHit;
  /** How many times the compiler ran (2 when the first run stalled). */
  attempts: number;
}

/**
 * Runs `argv` with COMPILE_LIMITS in the session's writable work dir. A compiler blocks
 * without burning CPU only on the host: a cold page cache (rustc maps ~200 MB of
 * libraries; the first compile after a reboot spent 10 s of wall for 0.5 s of CPU on a
 * quiet machine and 30 s on a busy one) or a saturated disk. Source code cannot make it
 * wait (no network, no FIFO, nothing to read but its own files), so a wall-bound hit in
 * which the compiler was blocked (on CPU for under 1/STALL_CPU_SHARE of its wall time) is
 * retried once, with the files the first try brought into the cache. A compiler that was
 * working when the wall bound came (a CPU-hungry compile starved on a loaded host: its share
 * there is ~1/load per core) is not retried: its CE comes after one bounded run. A second
 * stall is the submission's CE, so a compile that thrashes at its memory ceiling costs two
 * bounded runs, never a loop.
 */
export async function compileInSession(
  session: SandboxSession,
  argv: readonly string[],
  env: Record<string, string> | undefined,
  signal?: AbortSignal,
): Promise<CompileRun> {
  let attempts = 0;
  for (;;) {
    attempts++;
    const outcome = await session.run({ argv: [...argv], stdin: "", limits: COMPILE_LIMITS, env, writableWorkDir: true });
    signal?.throwIfAborted();
    const hit = classifyRun(outcome, COMPILE_LIMITS);
    const stalled = hit === "wall" && outcome.cpuTimeMs * STALL_CPU_SHARE < outcome.wallTimeMs;
    if (!stalled || attempts === 2) return { outcome, hit, attempts };
  }
}
