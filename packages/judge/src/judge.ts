// The judge core: judge(request) -> verdict over any SandboxEngine. It owns the
// concurrency slots and the checker worker pool; one submission is judged by
// judgeInSession() (compile once, run every test, verdicts from facts). A failure of
// the sandbox rejects with a retryable SandboxError instead of blaming the user.
import { availableParallelism } from "node:os";
import { PROBLEM_LIMITS, judgeRequestSchema, runJudgeRequestSchema, type JudgeRequest, type ParsedJudgeRequest, type RunJudgeRequest, type RunVerdict, type Verdict } from "@sonocode/contracts";
import type { Logger } from "pino";
import { createCheckPool, type CheckPool } from "./check/check-pool.js";
import { createCustomCheckerHost } from "./custom-checker/custom-checker.js";
import { SandboxError } from "./errors.js";
import { judgeInSession } from "./judge-session.js";
import { runProgram } from "./run-session.js";
import { groupingIssue, scoreVerdict, unscorableVerdict } from "./scoring.js";
import type { SandboxEngine, SandboxSession } from "./sandbox/sandbox.js";
import { JudgeSlots } from "./judge-slots.js";

export { FAILED_TEST_DISPLAY_CHARS, WALL_TIME_FACTOR } from "./judge-session.js";

export interface JudgeProgress {
  passed: number;
  total: number;
}

/**
 * Where one judging's wall time went, in milliseconds: filled in by judge() when the caller
 * passes an object (the evaluator's per-job stage timings, the pipeline bench's breakdown).
 * Only the stages reached are set.
 */
export interface JudgeTimings {
  /** Waiting for a free judge slot. */
  slotWaitMs?: number;
  /** Opening the sandbox session (work dir, supervisor and its namespaces). */
  openMs?: number;
  /** Writing the source and compiling it (0 for languages without a compile step). */
  compileMs?: number;
  /** Every test run and check, from the end of the compile to the verdict. */
  testsMs?: number;
}

export interface JudgeCallOptions {
  onProgress?: (progress: JudgeProgress) => void | Promise<void>;
  signal?: AbortSignal;
  /** Filled in with the stage timings as they are reached. */
  timings?: JudgeTimings;
}

export interface Judge {
  readonly engine: "bwrap" | "docker";
  /**
   * Resolves the verdict; rejects with SandboxError when the sandbox (not the program) failed,
   * so the caller retries instead of blaming the user.
   */
  judge(request: JudgeRequest, options?: JudgeCallOptions): Promise<Verdict>;
  /**
   * "Run code": every test run, outputs returned (see run-session.ts), in a judge slot like a
   * submission. Rejects with SandboxError when the sandbox failed.
   */
  run(request: RunJudgeRequest, options?: Pick<JudgeCallOptions, "signal">): Promise<RunVerdict>;
  /** One trivial sandboxed run; rejects with SandboxError when the engine does not work. */
  selfTest(): Promise<void>;
  /** Closes the engine and the checker workers. */
  close(): Promise<void>;
}

export interface JudgeCoreOptions {
  logger?: Logger;
  /** Submissions judged at once; more calls wait their turn. Default: the number of CPUs. */
  maxConcurrency?: number;
  /** Checker worker threads (default: min(2, maxConcurrency)). */
  checkerThreads?: number;
  /** Where built custom checkers are kept (default <tmpdir>/sonocode-checkers). */
  checkerCacheDir?: string;
  /**
   * Open each free slot's next sandbox session ahead, so a submission does not wait for its
   * sandbox's set-up (default false; the evaluator turns it on). Costs one idle session
   * (bwrap: a supervisor process and a tmpfs work dir) per free slot.
   */
  warmSessions?: boolean;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Builds a judge over an engine that has already passed check(). */
export function createJudgeWithEngine(engine: SandboxEngine, options: JudgeCoreOptions = {}): Judge {
  const logger = options.logger;
  const concurrency = Math.max(1, options.maxConcurrency ?? availableParallelism());
  const slots = new JudgeSlots({ size: concurrency, open: () => engine.open(), warm: options.warmSessions === true, logger });
  // Checking never runs on this thread: it serves HTTP, sockets and queue-lock renewal.
  const pool: CheckPool = createCheckPool({ size: options.checkerThreads ?? Math.min(2, concurrency) });
  // Custom checkers run in sandbox sessions of their own, from the same engine.
  const customCheckers = createCustomCheckerHost({ engine, logger, ...(options.checkerCacheDir ? { cacheDir: options.checkerCacheDir } : {}) });
  let closed = false;

  return {
    engine: engine.name,
    async judge(input, call = {}) {
      if (closed) throw new Error("judge is closed");
      const parsed = judgeRequestSchema.parse(input);
      // The judge enforces the problem bounds too: a request cannot buy a 10-minute run.
      const request: ParsedJudgeRequest = {
        ...parsed,
        timeLimitMs: clamp(parsed.timeLimitMs, PROBLEM_LIMITS.timeLimitMs.min, PROBLEM_LIMITS.timeLimitMs.max),
        memoryLimitMb: clamp(parsed.memoryLimitMb, PROBLEM_LIMITS.memoryLimitMb.min, PROBLEM_LIMITS.memoryLimitMb.max),
      };
      // Groups that cannot be scored are the problem's fault: an IE before any sandbox work.
      const unscorable = groupingIssue(request.tests, request.groups);
      if (unscorable) {
        logger?.warn({ reason: unscorable }, "judge request with inconsistent groups");
        return unscorableVerdict(request.tests.length, unscorable);
      }
      call.signal?.throwIfAborted();
      const timings = call.timings;
      const waitStarted = performance.now();
      const slot = await slots.acquire(call.signal);
      let session: SandboxSession | null = null;
      const onAbort = () => void session?.dispose();
      call.signal?.addEventListener("abort", onAbort, { once: true });
      const started = Date.now();
      try {
        const opening = performance.now();
        if (timings) timings.slotWaitMs = opening - waitStarted;
        session = await slot.session();
        if (timings) timings.openMs = performance.now() - opening;
        const verdict = scoreVerdict(await judgeInSession(session, request, pool, call, customCheckers), request.tests, request.groups);
        logger?.info(
          { engine: engine.name, language: request.language, status: verdict.status, passed: verdict.passed, total: verdict.total, ms: Date.now() - started },
          "judged",
        );
        return verdict;
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason ?? error;
        // Never the user's fault, and never a host path in what they see: details go to the log only.
        logger?.error({ err: error, engine: engine.name, language: request.language }, "judge internal error");
        throw error instanceof SandboxError ? error : new SandboxError("the sandbox failed; the submission was not judged", { cause: error });
      } finally {
        call.signal?.removeEventListener("abort", onAbort);
        // The verdict does not wait for the sandbox's tear-down; the slot does (JudgeSlots).
        slot.finish(session);
      }
    },
    async run(input, call = {}) {
      if (closed) throw new Error("judge is closed");
      const parsed = runJudgeRequestSchema.parse(input);
      const bounded = <T extends { timeLimitMs: number; memoryLimitMb: number }>(limits: T): T => ({
        ...limits,
        timeLimitMs: clamp(limits.timeLimitMs, PROBLEM_LIMITS.timeLimitMs.min, PROBLEM_LIMITS.timeLimitMs.max),
        memoryLimitMb: clamp(limits.memoryLimitMb, PROBLEM_LIMITS.memoryLimitMb.min, PROBLEM_LIMITS.memoryLimitMb.max),
      });
      const request = { ...bounded(parsed), ...(parsed.reference ? { reference: bounded(parsed.reference) } : {}) };
      call.signal?.throwIfAborted();
      const slot = await slots.acquire(call.signal);
      try {
        // runProgram disposes each session it opens before the next (reference, then the user's).
        return await runProgram(() => slot.session(), request, pool, call, customCheckers);
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason ?? error;
        logger?.error({ err: error, engine: engine.name, language: request.language }, "run internal error");
        throw error instanceof SandboxError ? error : new SandboxError("the sandbox failed; the run did not complete", { cause: error });
      } finally {
        slot.finish(null);
      }
    },
    async selfTest() {
      try {
        await engine.check();
      } catch (error) {
        throw error instanceof SandboxError ? error : new SandboxError(`sandbox self-test failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    },
    async close() {
      closed = true;
      // Sessions first (tear-downs in flight, warm ones), then the engine they belong to.
      await slots.close();
      await Promise.all([engine.close(), pool.close()]);
    },
  };
}
