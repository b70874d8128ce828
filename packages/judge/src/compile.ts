// The compile step of a submission or a custom checker, with the one rule compiles need
// beyond a test run's: a compiler that hit its wall bound while barely running was held up
// by the host, not by the code it compiles.
import { JUDGE_DEFAULTS, storableText } from "@sonocode/contracts";
import { ARTEFACT_MISSING_EXIT, COMPILE_LIMITS, compileArgv, type LanguageSpec } from "./languages.js";
import type { LimitHit, RunOutcome, SandboxSession } from "./sandbox/sandbox.js";
import { classifyRun, exitedCleanly } from "./verdict.js";

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

/** A program's compile step: built (with what the compiler said, if anything) or a CE with its reason. */
export type CompileStep = { ok: true; compileOutput: string | null } | { ok: false; compileOutput: string; message: string };

function compilerText(out: RunOutcome): string {
  return storableText(Buffer.concat([out.stdout, out.stderr]), {
    maxCodePoints: JUDGE_DEFAULTS.compileOutputLimitBytes,
    truncatedNote: () => "\n… (compiler output truncated)",
  });
}

/**
 * Writes `source` and compiles it (languages without a compile step are built as written):
 * the CE rules that submissions and runs share.
 */
export async function compileSource(session: SandboxSession, spec: LanguageSpec, source: string, env: Record<string, string> | undefined, signal?: AbortSignal): Promise<CompileStep> {
  await session.writeFile(spec.sourceFile, source);
  const compile = compileArgv(spec);
  if (!compile) return { ok: true, compileOutput: null };
  const { outcome, hit } = await compileInSession(session, compile, env, signal);
  const text = compilerText(outcome);
  const compileOutput = text.length > 0 ? text : null;
  // The compiler succeeded, the artefact the tests need is not there (checked in the same run).
  if (spec.artefact && hit === null && outcome.signal === null && outcome.exitCode === ARTEFACT_MISSING_EXIT) {
    const why = spec.artefact.missing;
    return { ok: false, compileOutput: compileOutput ? `${compileOutput}\n${why}` : why, message: why };
  }
  if (hit !== null || !exitedCleanly(outcome)) {
    const why =
      hit === "time" || hit === "wall"
        ? "Compilation exceeded the time limit"
        : hit === "memory"
          ? "Compilation exceeded the memory limit"
          : hit === "output"
            ? "Compilation produced too much output"
            : "Compilation failed";
    return { ok: false, compileOutput: compileOutput ?? why, message: why };
  }
  return { ok: true, compileOutput };
}
