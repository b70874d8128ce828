import { UnrecoverableError, type Job } from "bullmq";
import { z } from "zod";
import {
  evaluationResultSchema,
  objectIdSchema,
  submissionJobSchema,
  type EvaluationResult,
  type SubmissionJob,
} from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import type { EvaluationPublisher } from "../evaluation.publisher.js";
import type { EvaluatorJudge } from "../judge.port.js";
import type { EvaluatorMetrics } from "../metrics.js";

/** A payload that can never be judged; its IE result (when it had ids) is already published. */
export class InvalidPayloadError extends UnrecoverableError {
  override name = "InvalidPayloadError";
}

/** Just enough of a payload to tell its owner that it failed. */
const jobIdsSchema = z.object({ submissionId: objectIdSchema, userId: z.string().min(1) });
export type JobIds = z.infer<typeof jobIdsSchema>;

export function jobIds(data: unknown): JobIds | undefined {
  const ids = jobIdsSchema.safeParse(data);
  return ids.success ? ids.data : undefined;
}

/** Messages shown to the user: never a stack, a host path or the judge's internals. */
export const IE_MESSAGES = {
  invalidJob: "internal error: the evaluation job was invalid",
  judgeFailed: "internal error: the judge failed; please resubmit",
  badVerdict: "internal error: the judge returned an invalid verdict",
  evaluationFailed: "internal error: evaluation failed; please resubmit",
} as const;

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
  };
}

export function testCount(data: unknown): number {
  if (data && typeof data === "object" && "testCases" in data && Array.isArray(data.testCases)) return data.testCases.length;
  return 0;
}

/** True when this attempt is the job's last: BullMQ counts attemptsMade after each throw. */
export function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export interface EvaluateDeps {
  judge: EvaluatorJudge;
  publisher: EvaluationPublisher;
  logger: Logger;
  metrics: EvaluatorMetrics;
}

/** What the job completes with (visible in BullMQ tooling): the status, never the code or outputs. */
export interface EvaluateOutcome {
  status: EvaluationResult["status"];
  passed: number;
  total: number;
}

/**
 * SubmissionQueue processor: re-parse, announce Running, judge with live progress,
 * publish the verdict. A wrong answer or compile error is a verdict, not a failure;
 * only infrastructure problems throw, and they end as IE, never as a user's fault.
 */
export function createEvaluateProcessor(deps: EvaluateDeps) {
  return async (job: Job<unknown>, _token?: string, signal?: AbortSignal): Promise<EvaluateOutcome> => {
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
    return evaluate(job, parsed.data, deps, signal);
  };
}

async function evaluate(job: Job<unknown>, data: SubmissionJob, deps: EvaluateDeps, signal: AbortSignal | undefined): Promise<EvaluateOutcome> {
  const { submissionId, userId } = data;
  const total = data.testCases.length;
  const log = deps.logger.child({ jobId: job.id, submissionId, attempt: job.attemptsMade + 1 });

  // Progress is best effort: a lost progress event must never fail or delay the verdict much.
  const publishProgress = async (passed: number) => {
    try {
      await deps.publisher.progress({ submissionId, userId, status: "Running", passed, total });
    } catch (error) {
      log.warn({ err: error }, "progress event not published");
    }
  };

  deps.metrics.inFlight += 1;
  try {
    await publishProgress(0);
    log.info({ language: data.language, tests: total }, "judging");
    const started = performance.now();
    let verdict;
    try {
      verdict = await deps.judge.judge(
        {
          language: data.language,
          source: data.source,
          tests: data.testCases,
          timeLimitMs: data.timeLimitMs,
          memoryLimitMb: data.memoryLimitMb,
          checker: data.checker,
          runAllTests: data.runAllTests,
        },
        { onProgress: (progress) => publishProgress(progress.passed), ...(signal ? { signal } : {}) },
      );
    } catch (error) {
      deps.metrics.recordJudgeDuration(performance.now() - started);
      if (signal?.aborted || !isLastAttempt(job)) {
        // Cancelled, or BullMQ will try again (with the producer's backoff): let it.
        log.warn({ err: error, lastAttempt: false }, "judge threw; job will be retried");
        throw error;
      }
      log.error({ err: error }, "judge threw on the last attempt; reporting IE");
      await deps.publisher.result(internalErrorResult({ submissionId, userId }, total, IE_MESSAGES.judgeFailed));
      deps.metrics.recordResult("IE");
      return { status: "IE", passed: 0, total };
    }
    deps.metrics.recordJudgeDuration(performance.now() - started);

    const result = evaluationResultSchema.safeParse({ ...verdict, submissionId, userId });
    if (!result.success) {
      log.error({ issues: result.error.issues.map((issue) => issue.path.join(".")) }, "judge returned an invalid verdict");
      await deps.publisher.result(internalErrorResult({ submissionId, userId }, total, IE_MESSAGES.badVerdict));
      deps.metrics.recordResult("IE");
      return { status: "IE", passed: 0, total };
    }
    await deps.publisher.result(result.data);
    deps.metrics.recordResult(result.data.status);
    log.info({ status: result.data.status, passed: result.data.passed, total: result.data.total, timeMs: result.data.timeMs }, "judged");
    return { status: result.data.status, passed: result.data.passed, total: result.data.total };
  } finally {
    deps.metrics.inFlight -= 1;
  }
}
