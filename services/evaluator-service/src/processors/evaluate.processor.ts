import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { z } from "zod";
import {
  evaluationResultSchema,
  generationSchema,
  objectIdSchema,
  submissionJobSchema,
  submissionTestSetSchema,
  type EvaluationResult,
  type Interactor,
  type JudgeTest,
  type SubmissionJob,
  type TestGroup,
} from "@sonocode/contracts";
import { isSandboxError, type JudgeTimings } from "@sonocode/judge";
import type { Logger } from "@sonocode/logger";
import type { EngineHealth } from "../engine-health.js";
import type { EvaluationPublisher } from "../evaluation.publisher.js";
import type { EvaluatorJudge } from "../judge.port.js";
import type { EvaluatorMetrics } from "../metrics.js";
import { TestSetGoneError, type ResolvedTestSet, type TestSetProvider } from "../testsets/test-set.provider.js";
import { createProgressCoalescer } from "./progress.coalescer.js";
import { SandboxAttemptsExhaustedError, sandboxRetryDelay, type SandboxFailureCounter, type SandboxRetryPolicy } from "./sandbox-retry.js";

/** A payload that can never be judged; its IE result (when it had ids) is already published. */
export class InvalidPayloadError extends UnrecoverableError {
  override name = "InvalidPayloadError";
}

/** Just enough of a payload to tell its owner that it failed. */
const jobIdsSchema = z.object({ submissionId: objectIdSchema, userId: z.string().min(1), generation: generationSchema.optional() });
export type JobIds = z.infer<typeof jobIdsSchema>;

export function jobIds(data: unknown): JobIds | undefined {
  const ids = jobIdsSchema.safeParse(data);
  return ids.success ? ids.data : undefined;
}

/** This evaluator no longer holds the job's lock: another one re-runs it, so this result must not be published. */
export class LockLostError extends Error {
  override name = "LockLostError";
}

/** Messages shown to the user: never a stack, a host path or the judge's internals. */
export const IE_MESSAGES = {
  invalidJob: "internal error: the evaluation job was invalid",
  sandboxFailed: "internal error: the judging sandbox failed on every try; your code was not judged, please resubmit",
  badVerdict: "internal error: the judge returned an invalid verdict",
  evaluationFailed: "internal error: evaluation failed; please resubmit",
  problemGone: "internal error: the problem was deleted before this submission was judged",
} as const;

/** Appended to the verdict's message when the tests named by the job no longer existed anywhere. */
export const TEST_SET_CHANGED_NOTE = "judged against the problem's current tests: they changed after this submission was made";

export function internalErrorResult(ids: JobIds, total: number, message: string): EvaluationResult {
  return {
    submissionId: ids.submissionId,
    userId: ids.userId,
    status: "IE",
    passed: 0,
    total,
    timeMs: null,
    memoryKb: null,
    results: [],
    compileOutput: null,
    failedTest: null,
    message,
    // The rejudge generation the job judged: the consumer drops a result of a superseded one.
    ...(ids.generation === undefined ? {} : { generation: ids.generation }),
  };
}

/** The job's rejudge generation, for its progress and result (absent from producers without rejudges). */
function generationOf(data: SubmissionJob): { generation?: number } {
  return data.generation === undefined ? {} : { generation: data.generation };
}

export function testCount(data: unknown): number {
  if (data && typeof data === "object" && "testCases" in data && Array.isArray(data.testCases)) return data.testCases.length;
  const ref = submissionTestSetSchema.safeParse(data && typeof data === "object" && "testSet" in data ? data.testSet : undefined);
  return ref.success ? ref.data.count : 0;
}

export interface EvaluateDeps {
  judge: EvaluatorJudge;
  publisher: EvaluationPublisher;
  logger: Logger;
  metrics: EvaluatorMetrics;
  engineHealth: EngineHealth;
  sandboxRetry: SandboxRetryPolicy;
  sandboxFailures: SandboxFailureCounter;
  /** The worker's lock duration: re-asserting the lock before publishing extends it by this much. */
  lockDurationMs: number;
  /** Resolves job.testSet to cached files; required for every job that carries a reference (all of today's producers). */
  testSets?: TestSetProvider | undefined;
  /** Minimum gap between two progress events of one submission (default DEFAULT_PROGRESS_INTERVAL_MS). */
  progressIntervalMs?: number | undefined;
}

/** What the job completes with (visible in BullMQ tooling): the status, never the code or outputs. */
export interface EvaluateOutcome {
  status: EvaluationResult["status"];
  passed: number;
  total: number;
}

/**
 * SubmissionQueue processor: re-parse, announce Running, judge with live (coalesced) progress,
 * publish the verdict. A wrong answer or compile error is a verdict, not a failure;
 * only infrastructure problems throw. A broken sandbox puts the job back with back-off for
 * any evaluator (the evaluator's own budget); anything else goes to BullMQ's attempts. Only
 * when those are used up does the worker's failed hook report IE, never a user's fault.
 */
export function createEvaluateProcessor(deps: EvaluateDeps) {
  return async (job: Job<unknown>, token?: string, signal?: AbortSignal): Promise<EvaluateOutcome> => {
    const parsed = submissionJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const ids = jobIds(job.data);
      const log = deps.logger.child({ jobId: job.id, submissionId: ids?.submissionId });
      log.error({ issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) }, "invalid submission job");
      if (ids) {
        // Tell the owner first, so the submission is never stuck in Pending/Running.
        await deps.publisher.result(internalErrorResult(ids, testCount(job.data), IE_MESSAGES.invalidJob));
        deps.metrics.recordResult("IE");
      }
      throw new InvalidPayloadError("invalid submission job payload");
    }
    return evaluate(job, parsed.data, deps, token, signal);
  };
}

/**
 * The sandbox broke: count it against this evaluator's engine (which may take this evaluator
 * out of rotation first, so it does not fetch the retry itself) and against the job's budget,
 * then move the job to delayed for any evaluator, or fail it for good when the budget is spent.
 */
async function retryAfterSandboxFailure(job: Job<unknown>, error: unknown, deps: EvaluateDeps, token: string | undefined, log: Logger): Promise<never> {
  await deps.engineHealth.recordSandboxFailure(error);
  const failures = await deps.sandboxFailures.increment(job.id ?? "");
  if (failures >= deps.sandboxRetry.attempts || !token) {
    await deps.sandboxFailures.clear(job.id ?? "");
    log.error({ err: error, sandboxFailures: failures }, "the sandbox failed on every try; the job fails for good");
    throw new SandboxAttemptsExhaustedError(`the sandbox failed ${failures} times`);
  }
  const delayMs = sandboxRetryDelay(deps.sandboxRetry, failures);
  log.warn({ err: error, sandboxFailures: failures, retryInMs: delayMs }, "the sandbox failed; the job is retried on any evaluator");
  // skipAttempt: the producer's attempts stay for failures that are not the sandbox's.
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/** The job's tests: a reference resolved to cached files (leased until judged), or legacy inline tests. */
async function jobTests(data: SubmissionJob, deps: EvaluateDeps, log: Logger): Promise<{ tests: JudgeTest[]; lease?: ResolvedTestSet }> {
  if (data.testCases) return { tests: data.testCases };
  if (!data.testSet || !deps.testSets) throw new Error("job carries a test-set reference but this evaluator has no test-set provider");
  try {
    const lease = await deps.testSets.resolve(data.testSet);
    if (lease.changed) log.warn({ wanted: data.testSet.hash, judgedWith: lease.set.hash }, "test set changed since the submission; judging the current one");
    return { tests: lease.set.tests, lease };
  } catch (error) {
    if (error instanceof TestSetGoneError) {
      await deps.publisher.result(internalErrorResult(data, data.testSet.count, IE_MESSAGES.problemGone));
      deps.metrics.recordResult("IE");
      throw new InvalidPayloadError(error.message);
    }
    throw error; // problem-service unreachable: BullMQ's attempts retry it
  }
}

async function evaluate(job: Job<unknown>, data: SubmissionJob, deps: EvaluateDeps, token: string | undefined, signal: AbortSignal | undefined): Promise<EvaluateOutcome> {
  const { submissionId, userId } = data;
  const log = deps.logger.child({ jobId: job.id, submissionId, attempt: job.attemptsMade + 1 });
  const stages: JobStages = { queuedMs: job.processedOn === undefined ? null : job.processedOn - job.timestamp };
  const testSetStarted = performance.now();
  const { tests, lease } = await jobTests(data, deps, log);
  stages.testSetMs = performance.now() - testSetStarted;
  try {
    // The test set's checker is the one its version was made with (a job carries no custom checker's code).
    const judged = lease?.set.checker ? { ...data, checker: lease.set.checker } : data;
    // Tests carry their group; the set's groups say what each is worth (legacy inline jobs have none).
    // An interactive problem's interactor travels with the test set too (its code is part of the hash).
    return await judgeTests(job, judged, tests, lease?.set.groups, lease?.set.interactor, lease?.changed ?? false, deps, token, signal, log, stages);
  } finally {
    await lease?.release();
  }
}

async function judgeTests(
  job: Job<unknown>,
  data: SubmissionJob,
  tests: JudgeTest[],
  groups: TestGroup[] | undefined,
  interactor: Interactor | undefined,
  testsChanged: boolean,
  deps: EvaluateDeps,
  token: string | undefined,
  signal: AbortSignal | undefined,
  log: Logger,
  stages: JobStages,
): Promise<EvaluateOutcome> {
  const { submissionId, userId } = data;
  const total = tests.length;

  // Progress is best effort and coalesced (a few per second): a lost or slow progress event must
  // never fail or delay the verdict, and none may follow it (see ProgressCoalescer). The first
  // test's count is held one interval: most submissions are judged within it, and then their
  // "Running" announcement is the only progress event (each costs a queue job, a database write
  // and a socket emit downstream).
  const progress = createProgressCoalescer({
    ...(deps.progressIntervalMs === undefined ? {} : { intervalMs: deps.progressIntervalMs }),
    holdFirstCount: true,
    publish: async (passed) => {
      try {
        await deps.publisher.progress({ submissionId, userId, status: "Running", passed, total, ...generationOf(data) });
      } catch (error) {
        log.warn({ err: error }, "progress event not published");
      }
    },
  });

  deps.metrics.inFlight += 1;
  try {
    progress.update(0);
    log.info({ language: data.language, tests: total }, "judging");
    const started = performance.now();
    let verdict;
    try {
      verdict = await deps.judge.judge(
        {
          language: data.language,
          source: data.source,
          tests,
          timeLimitMs: data.timeLimitMs,
          memoryLimitMb: data.memoryLimitMb,
          checker: data.checker,
          runAllTests: data.runAllTests,
          ...(groups ? { groups } : {}),
          ...(interactor ? { interactor } : {}),
        },
        { onProgress: (reported) => progress.update(reported.passed), timings: stages, ...(signal ? { signal } : {}) },
      );
    } catch (error) {
      await progress.finish();
      deps.metrics.recordJudgeDuration(performance.now() - started);
      if (!signal?.aborted && isSandboxError(error)) return await retryAfterSandboxFailure(job, error, deps, token, log);
      // Cancelled, or not the sandbox: BullMQ's attempts (with the producer's back-off), then the failed hook's IE.
      log.warn({ err: error }, "judge threw; BullMQ retries the job or fails it");
      throw error;
    }
    // Before anything else: no progress may be published once the verdict can be.
    const judged = performance.now();
    stages.judgeMs = judged - started;
    await progress.finish();
    stages.progressFinishMs = performance.now() - judged;
    deps.metrics.recordJudgeDuration(stages.judgeMs);
    deps.engineHealth.recordVerdict();
    if (verdict.checkerFailure) {
      // The problem is broken, not the submission: flagged for admins (no user code, no checker output here).
      deps.metrics.recordCheckerFailure(data.problemId, verdict.checkerFailure.reason);
      log.error({ problemId: data.problemId, reason: verdict.checkerFailure.reason, test: verdict.checkerFailure.test }, "the problem's custom checker failed: an admin has to fix the problem");
    }

    const message = testsChanged ? (verdict.message ? `${verdict.message} (${TEST_SET_CHANGED_NOTE})` : TEST_SET_CHANGED_NOTE) : verdict.message;
    const result = evaluationResultSchema.safeParse({ ...verdict, message, submissionId, userId, ...generationOf(data) });
    const locking = performance.now();
    await assertLockHeld(job, token, deps.lockDurationMs);
    stages.lockMs = performance.now() - locking;
    // A job retried after sandbox failures has a counter to remove; a first attempt never has one.
    if (job.attemptsStarted > 1) await deps.sandboxFailures.clear(job.id ?? "");
    if (!result.success) {
      log.error({ issues: result.error.issues.map((issue) => issue.path.join(".")) }, "judge returned an invalid verdict");
      await deps.publisher.result(internalErrorResult({ submissionId, userId, ...generationOf(data) }, total, IE_MESSAGES.badVerdict));
      deps.metrics.recordResult("IE");
      return { status: "IE", passed: 0, total };
    }
    const publishing = performance.now();
    await deps.publisher.result(result.data);
    stages.publishMs = performance.now() - publishing;
    deps.metrics.recordResult(result.data.status);
    log.info({ status: result.data.status, passed: result.data.passed, total: result.data.total, timeMs: result.data.timeMs, stages: roundedStages(stages), pickedUpAt: job.processedOn, publishedAt: Date.now() }, "judged");
    return { status: result.data.status, passed: result.data.passed, total: result.data.total };
  } finally {
    await progress.finish(); // a throw before the judge ran leaves nothing pending either
    deps.metrics.inFlight -= 1;
  }
}

/**
 * Where a job's time went (ms), for the "judged" log line and the pipeline bench's breakdown:
 * queuedMs from the job's enqueue to its pick-up (BullMQ's timestamps), then this process's
 * stages; the judge's own (slot wait, session open, compile, tests, dispose) come from judge().
 * Numbers only: never code, output or test data.
 */
type JobStages = JudgeTimings & {
  queuedMs: number | null;
  testSetMs?: number;
  judgeMs?: number;
  progressFinishMs?: number;
  lockMs?: number;
  publishMs?: number;
};

function roundedStages(stages: JobStages): Record<string, number | null> {
  return Object.fromEntries(Object.entries(stages).map(([stage, ms]) => [stage, typeof ms === "number" ? Math.round(ms * 10) / 10 : null]));
}

/**
 * Re-asserts (and extends) this evaluator's lock right before the result goes out. If the
 * lock lapsed (Redis restarted without it, or renewals could not reach Redis) the stalled
 * check hands the job to another evaluator, whose result is the one that counts: publishing
 * ours as well would judge the submission twice.
 */
async function assertLockHeld(job: Job<unknown>, token: string | undefined, lockDurationMs: number): Promise<void> {
  if (!token) return;
  if ((await job.extendLock(token, lockDurationMs)) !== 1) throw new LockLostError("the job's lock was lost; another evaluator re-runs it");
}
