import { UnrecoverableError, type Job, type Queue } from "bullmq";
import { z } from "zod";
import { RUN_RESULT_JOB, RUN_RESULT_JOB_OPTIONS, objectIdSchema, runJobSchema, runResultSchema, type RunJob, type RunJudgeTest, type RunResult, type RunVerdict } from "@sonocode/contracts";
import { isSandboxError } from "@sonocode/judge";
import type { Logger } from "@sonocode/logger";
import type { EngineHealth } from "../engine-health.js";
import type { EvaluatorJudge } from "../judge.port.js";
import { TestSetGoneError, type TestSetProvider } from "../testsets/test-set.provider.js";
import type { EvaluateOutcome } from "./evaluate.processor.js";

/** What a run's owner reads when the platform, not their program, failed. */
export const RUN_IE_MESSAGES = {
  invalidJob: "internal error: the run job was invalid",
  problemGone: "internal error: the problem no longer exists",
  noVisibleTests: "internal error: the problem has no visible tests; run it on your own input",
  interactive: "internal error: run code is not available for interactive problems; submit instead",
  unsupported: "internal error: this evaluator cannot run code; try again",
  failed: "internal error: the run did not complete; please try again",
} as const;

/** A run payload that can never be run; its IE result (when it had ids) is already published. */
export class InvalidRunPayloadError extends UnrecoverableError {
  override name = "InvalidRunPayloadError";
}

/** Just enough of a run job to tell its owner that it failed. */
const runIdsSchema = z.object({ runId: objectIdSchema, userId: z.string().min(1) });

export interface RunPublisher {
  result(result: RunResult): Promise<void>;
}

export function createRunPublisher(queue: Queue): RunPublisher {
  return {
    async result(result) {
      await queue.add(RUN_RESULT_JOB, runResultSchema.parse(result), RUN_RESULT_JOB_OPTIONS);
    },
  };
}

function internalError(message: string): RunVerdict {
  return { status: "IE", compileOutput: null, results: [], message };
}

export interface RunProcessorDeps {
  judge: EvaluatorJudge;
  publisher: RunPublisher;
  logger: Logger;
  engineHealth: EngineHealth;
  testSets?: TestSetProvider | undefined;
  lockDurationMs: number;
}

/**
 * SubmissionQueue "run" jobs: resolve the visible tests (or take the custom input), run them in
 * run mode (outputs kept, the reference solution filling in the expected output), publish the
 * result on EvaluationQueue. Runs are interactive and disposable: a broken sandbox is counted
 * against the engine's health and the job goes to BullMQ's attempts (the producer gives it two);
 * when those are used up the worker's failed hook reports IE (reportRunFailure). A job past its
 * deadline is skipped: submission-service has already made that run IE.
 */
export function createRunProcessor(deps: RunProcessorDeps) {
  return async (job: Job<unknown>, token?: string, signal?: AbortSignal): Promise<EvaluateOutcome> => {
    const parsed = runJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const ids = runIdsSchema.safeParse(job.data);
      deps.logger.error({ jobId: job.id, runId: ids.data?.runId, issues: parsed.error.issues.map((issue) => issue.path.join(".")) }, "invalid run job");
      if (ids.success) await deps.publisher.result({ ...ids.data, ...internalError(RUN_IE_MESSAGES.invalidJob) });
      throw new InvalidRunPayloadError("invalid run job payload");
    }
    const data = parsed.data;
    const log = deps.logger.child({ jobId: job.id, runId: data.runId, attempt: job.attemptsMade + 1 });
    if (Date.now() > data.deadline) {
      log.warn("run job past its deadline; skipped (the run is already IE)");
      return { status: "IE", passed: 0, total: 0 };
    }
    const verdict = await runJob(data, deps, log, signal);
    // Another evaluator re-runs a job whose lock lapsed: only one result may go out.
    if (token && (await job.extendLock(token, deps.lockDurationMs)) !== 1) throw new Error("the run job's lock was lost; another evaluator re-runs it");
    const result = runResultSchema.safeParse({ ...verdict, runId: data.runId, userId: data.userId });
    if (!result.success) {
      log.error({ issues: result.error.issues.map((issue) => issue.path.join(".")) }, "judge returned an invalid run verdict");
      await deps.publisher.result({ runId: data.runId, userId: data.userId, ...internalError(RUN_IE_MESSAGES.failed) });
      return { status: "IE", passed: 0, total: 0 };
    }
    await deps.publisher.result(result.data);
    const passed = result.data.results.filter((test) => test.status === "Success").length;
    log.info({ status: result.data.status, tests: result.data.results.length }, "run done");
    return { status: result.data.status, passed, total: result.data.results.length };
  };
}

async function runJob(data: RunJob, deps: RunProcessorDeps, log: Logger, signal: AbortSignal | undefined): Promise<RunVerdict> {
  const run = deps.judge.run;
  if (!run) return internalError(RUN_IE_MESSAGES.unsupported);
  if (!deps.testSets) throw new Error("run job carries a test-set reference but this evaluator has no test-set provider");
  let lease;
  try {
    lease = await deps.testSets.resolve(data.testSet);
  } catch (error) {
    if (error instanceof TestSetGoneError) return internalError(RUN_IE_MESSAGES.problemGone);
    throw error; // problem-service unreachable: BullMQ's attempts retry it
  }
  try {
    // Hidden tests never leave this function: only visible ones are run, and their positions
    // among the visible tests are what the owner sees as indexes.
    // submission-service refuses these; a problem made interactive after the POST lands here.
    if (lease.set.interactor) return internalError(RUN_IE_MESSAGES.interactive);
    const tests: RunJudgeTest[] =
      data.input === undefined
        ? lease.set.tests.filter((test) => !test.hidden).map((test) => ({ inputFile: test.inputFile, outputFile: test.outputFile }))
        : [{ input: data.input, output: null }];
    if (tests.length === 0) return internalError(RUN_IE_MESSAGES.noVisibleTests);
    log.info({ language: data.language, tests: tests.length, custom: data.input !== undefined, reference: data.reference !== undefined }, "running");
    try {
      const verdict = await run.call(
        deps.judge,
        {
          language: data.language,
          source: data.source,
          tests,
          timeLimitMs: data.timeLimitMs,
          memoryLimitMb: data.memoryLimitMb,
          // The test set's checker is the one its version was made with (a custom checker's code comes only from there).
          checker: lease.set.checker ?? data.checker,
          ...(data.input !== undefined && data.reference ? { reference: data.reference } : {}),
        },
        signal ? { signal } : {},
      );
      deps.engineHealth.recordVerdict();
      return verdict;
    } catch (error) {
      if (!signal?.aborted && isSandboxError(error)) await deps.engineHealth.recordSandboxFailure(error);
      log.warn({ err: error }, "run failed; BullMQ retries it or fails it");
      throw error;
    }
  } finally {
    await lease.release();
  }
}

/** The worker's failed hook for run jobs: once BullMQ has given up, the owner gets IE instead of a run stuck Pending. */
export async function reportRunFailure(job: Job<unknown>, error: Error, publisher: RunPublisher, logger: Logger): Promise<void> {
  if (error instanceof InvalidRunPayloadError) return; // its IE went out before the throw
  const ids = runIdsSchema.safeParse(job.data);
  const log = logger.child({ jobId: job.id, runId: ids.data?.runId });
  try {
    if ((await job.getState()) !== "failed") return;
    log.error({ err: { message: error.message }, attemptsMade: job.attemptsMade }, "run job failed for good; reporting IE");
    if (ids.success) await publisher.result({ ...ids.data, ...internalError(RUN_IE_MESSAGES.failed) });
  } catch (publishError) {
    log.error({ err: publishError }, "could not report IE for a failed run job; the run's deadline ends it");
  }
}
