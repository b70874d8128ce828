import { EVALUATION_JOBS, QUEUES, evaluationResultSchema, generationSchema, objectIdSchema, progressEventSchema, type Submission, type VerdictFields } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import { isDatabaseUnavailable, type Store } from "@sonocode/store";
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";
import { IE_REASONS, internalErrorVerdict } from "../domain/internal-error.verdict.js";
import { createSubmissionNotifier } from "../notifications/submission.notifier.js";
import { RUN_RESULT_JOB } from "@sonocode/contracts";
import { createRunNotifier } from "../notifications/run.notifier.js";
import { FinalEventNotAppendedError } from "../notifications/user-events.js";
import { createRunResultHandler } from "./run-results.handler.js";
import { createRunSweeper, type RunSweeperHandle } from "./run.sweeper.js";

export interface ResultConsumerDeps {
  store: Store;
  redisUrl: string;
  /** REDIS_PREFIX: BullMQ key prefix and the user-events stream `${prefix}:user-events`. */
  prefix: string;
  logger: Logger;
  concurrency?: number;
  /** Back-off while the database is away: first wait and cap (tests shorten them). */
  outageBackoff?: { initialMs: number; maxMs: number };
  /** The run sweep (lost runs given up as IE, expired ones deleted): its period, or no timer (tests). */
  runSweep?: { periodMs?: number; autoStart?: boolean };
}

export interface ResultConsumerHandle {
  worker: Worker;
  runSweeper: RunSweeperHandle;
  close(): Promise<void>;
}

export const DEFAULT_RESULT_CONCURRENCY = 8;
export const DEFAULT_OUTAGE_BACKOFF = { initialMs: 500, maxMs: 15_000 } as const;

/** Finished EvaluationQueue jobs are diagnostics only; used when a job does not set its own retention. */
const KEEP_FINISHED = { age: 3_600, count: 1_000 } as const;

/** Just enough of a malformed result to tell its owner that it failed. */
const resultIdsSchema = z.object({ submissionId: objectIdSchema, total: z.number().int().min(0).optional(), generation: generationSchema.optional() });

type Outcome = "running" | "ignored" | "skipped" | "finalized" | "replayed" | "refused" | "dropped" | "superseded";

/**
 * Consumes EvaluationQueue: writes progress and final verdicts to the database
 * (the truth), then notifies the user's sockets.
 *
 * - A result is never dropped. While the database is away (DATABASE_UNAVAILABLE)
 *   the job is moved to BullMQ's delayed set with capped exponential back-off; that
 *   consumes no attempt, so an outage of any length is waited out, and it frees the
 *   slot so other jobs keep flowing.
 * - A result the store refuses for any other reason (text it cannot hold, a verdict
 *   it rejects, a malformed report) turns the submission into IE: never non-final.
 * - Progress is disposable: during an outage it is skipped, never retried, so
 *   nothing piles up behind the final result.
 * - The final event goes out after the write, and again on a replay whose earlier
 *   append was never recorded (see SubmissionNotifier); a failed append parks the job
 *   like an outage, so its replay appends it.
 */
export function createResultConsumer(deps: ResultConsumerDeps): ResultConsumerHandle {
  const log = deps.logger.child({ component: "results-consumer" });
  const backoff = deps.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF;
  const publisher = new Redis(deps.redisUrl, { maxRetriesPerRequest: 2, commandTimeout: 5_000 });
  publisher.on("error", (error) => log.warn({ err: error }, "user-events redis error"));
  const notifier = createSubmissionNotifier(publisher, deps.prefix);
  const runNotifier = createRunNotifier(publisher, deps.prefix);
  const runResults = createRunResultHandler({ store: deps.store, notifier: runNotifier });
  // Runs end by their deadline instead of being reconciled: whatever consumes results also sweeps
  // runs, queuing a lost run's IE here as its result.
  const evaluationQueue = new Queue(QUEUES.evaluation, { connection: publisher, prefix: deps.prefix });
  evaluationQueue.on("error", () => undefined);
  const runSweeper = createRunSweeper({ store: deps.store, evaluationQueue, logger: deps.logger, ...deps.runSweep });

  let lastOutageLog = 0;
  function logOutage(error: unknown, what: string, cause = "database unavailable"): void {
    // One line per burst, not one per job: an outage is loud enough already.
    if (Date.now() - lastOutageLog < 5_000) return;
    lastOutageLog = Date.now();
    log.warn({ err: error }, `${cause}: ${what}`);
  }

  /** Parks the job in the delayed set without consuming an attempt, and tells BullMQ so. */
  async function waitOutOutage(job: Job, token: string | undefined, error: unknown, cause?: string): Promise<never> {
    // attemptsStarted counts every activation, including those after a delay: it drives the back-off.
    const exponent = Math.min(Math.max(job.attemptsStarted - 1, 0), 20);
    const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
    const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
    logOutage(error, `result jobs wait in the delayed set (this one ${jittered} ms)`, cause);
    await job.moveToDelayed(Date.now() + jittered, token);
    throw new DelayedError();
  }

  /**
   * The final event, or the job waits: a failed append (Redis blip on the notifier's own
   * connection) parks the job like an outage, and its next run is a replay whose missing mark
   * appends the event then; a tab that stayed connected would otherwise never learn the verdict.
   */
  async function announce(job: Job, token: string | undefined, submission: Submission, replay: boolean, jobLog: Logger): Promise<void> {
    let sent: Awaited<ReturnType<typeof notifier.final>>;
    try {
      sent = await notifier.final(submission, { replay });
    } catch (error) {
      jobLog.warn({ err: error }, "final event not appended; the result job will run again");
      return waitOutOutage(job, token, error, "the final event could not be appended");
    }
    if (sent === "emitted" && replay) jobLog.info("final event re-emitted for a replayed result");
  }

  /** finalize() with the outage and refusal rules above. */
  async function applyVerdict(job: Job, token: string | undefined, submissionId: string, verdict: VerdictFields, generation: number | undefined, jobLog: Logger): Promise<Outcome> {
    let outcome: Awaited<ReturnType<Store["submissions"]["finalize"]>>;
    const finalizing = performance.now();
    try {
      outcome = await deps.store.submissions.finalize(submissionId, verdict, generation);
    } catch (error) {
      if (isDatabaseUnavailable(error)) return waitOutOutage(job, token, error);
      if (verdict.status === "IE" && verdict.message === IE_REASONS.resultRefused) throw error;
      // Retrying cannot make the store accept this verdict: record that it failed instead.
      jobLog.error({ err: error, status: verdict.status }, "the store refused the verdict; recording IE");
      return applyVerdict(job, token, submissionId, internalErrorVerdict(verdict.total, IE_REASONS.resultRefused), generation, jobLog);
    }
    if (!outcome) {
      // Nothing to finish (e.g. its enqueue failed and the row was removed): retrying cannot make it appear.
      jobLog.warn("result dropped: unknown submission");
      return "dropped";
    }
    if (!outcome.applied && generation !== undefined && generation !== (outcome.submission.rejudgeGeneration ?? 0)) {
      // A late result of a judging that a rejudge superseded: the new judging's own result counts,
      // and nothing is emitted (the submission may be Pending again, or final with the new verdict).
      jobLog.info({ generation, current: outcome.submission.rejudgeGeneration ?? 0 }, "result of a superseded judging dropped");
      return "superseded";
    }
    const finalizeMs = performance.now() - finalizing;
    const notifying = performance.now();
    await announce(job, token, outcome.submission, !outcome.applied, jobLog);
    // Where the time went (ms), for the pipeline bench's breakdown: queue wait (BullMQ's timestamps), write, emit.
    const stages = {
      queuedMs: job.processedOn === undefined ? null : job.processedOn - job.timestamp,
      finalizeMs: Math.round(finalizeMs * 10) / 10,
      notifyMs: Math.round((performance.now() - notifying) * 10) / 10,
    };
    if (outcome.applied) {
      jobLog.info({ status: outcome.submission.status, passed: outcome.submission.passed, total: outcome.submission.total, stages, notifiedAt: Date.now() }, "submission finalized");
    } else {
      jobLog.info({ status: outcome.submission.status, stages }, "replayed result: submission already final");
    }
    if (!outcome.applied) return "replayed";
    return verdict.message === IE_REASONS.resultRefused || verdict.message === IE_REASONS.resultMalformed ? "refused" : "finalized";
  }

  async function handleProgress(job: Job, jobLog: Logger): Promise<Outcome> {
    const parsed = progressEventSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid progress payload: ${describe(parsed.error)}`);
    const event = parsed.data;
    const eventLog = jobLog.child({ submissionId: event.submissionId });
    let updated: Awaited<ReturnType<Store["submissions"]["markRunning"]>>;
    try {
      updated = await deps.store.submissions.markRunning(event.submissionId, { passed: event.passed, total: event.total }, event.generation);
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        logOutage(error, "progress events are skipped");
        return "skipped";
      }
      // A newer event or the final result supersedes this one; failing it would only fill the failed set.
      eventLog.warn({ err: error }, "progress refused by the store; skipped");
      return "skipped";
    }
    if (!updated) {
      // Absent, or already final: a late progress event must not move a verdict back.
      eventLog.debug("progress ignored: submission absent or already final");
      return "ignored";
    }
    await notifier.progress(updated).catch((error: unknown) => eventLog.warn({ err: error }, "progress notification failed"));
    return "running";
  }

  async function handleResult(job: Job, token: string | undefined, jobLog: Logger): Promise<Outcome> {
    const parsed = evaluationResultSchema.safeParse(job.data);
    if (!parsed.success) {
      const ids = resultIdsSchema.safeParse(job.data);
      // Unreadable and ownerless: nothing to finish; BullMQ keeps it in the failed set for inspection.
      if (!ids.success) throw new UnrecoverableError(`invalid result payload: ${describe(parsed.error)}`);
      const resultLog = jobLog.child({ submissionId: ids.data.submissionId });
      resultLog.error({ issues: describe(parsed.error) }, "malformed result; recording IE");
      return applyVerdict(job, token, ids.data.submissionId, internalErrorVerdict(ids.data.total ?? 0, IE_REASONS.resultMalformed), ids.data.generation, resultLog);
    }
    const { submissionId, userId: _userId, generation, ...verdict } = parsed.data;
    return applyVerdict(job, token, submissionId, verdict, generation, jobLog.child({ submissionId, ...(generation ? { generation } : {}) }));
  }

  async function process(job: Job, token?: string): Promise<Outcome> {
    const jobLog = log.child({ jobId: job.id, jobName: job.name });
    switch (job.name) {
      case EVALUATION_JOBS.progress:
        return handleProgress(job, jobLog);
      case RUN_RESULT_JOB:
        return runResults(job, jobLog).catch((error: unknown) => {
          if (isDatabaseUnavailable(error)) return waitOutOutage(job, token, error);
          if (error instanceof FinalEventNotAppendedError) return waitOutOutage(job, token, error, "run:result could not be appended");
          return Promise.reject(error);
        });
      case EVALUATION_JOBS.result:
        return handleResult(job, token, jobLog);
      default:
        throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} on ${QUEUES.evaluation}`);
    }
  }

  const connection = new Redis(deps.redisUrl, { maxRetriesPerRequest: null });
  connection.on("error", (error) => log.warn({ err: error }, "results consumer redis error"));
  const worker = new Worker(QUEUES.evaluation, process, {
    connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency ?? DEFAULT_RESULT_CONCURRENCY,
    // A consumer that dies mid-job leaves it to another replica after lockDuration; the write is
    // idempotent, so a job may stall many times before it would be worth failing.
    lockDuration: 15_000,
    stalledInterval: 10_000,
    maxStalledCount: 20,
    removeOnComplete: KEEP_FINISHED,
    removeOnFail: { age: 24 * 3_600, count: 1_000 },
  });
  worker.on("error", (error) => log.error({ err: error }, "results consumer error"));
  worker.on("failed", (job, error) =>
    log.error({ err: error, jobId: job?.id, jobName: job?.name, attemptsMade: job?.attemptsMade }, "evaluation job failed"),
  );

  return {
    worker,
    runSweeper,
    async close() {
      // Finish the jobs in hand (their database writes matter), then drop the connections.
      await runSweeper.close();
      await worker.close().catch((error: unknown) => log.warn({ err: error }, "results consumer close failed"));
      await evaluationQueue.close().catch(() => undefined);
      connection.disconnect();
      await publisher.quit().catch(() => publisher.disconnect());
    },
  };
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
}
