import { QUEUES, type Submission } from "@sonocode/contracts";
import { isAppError } from "@sonocode/errors";
import type { Logger } from "@sonocode/logger";
import { createPeriodLock, quitRedis, withTimeout } from "@sonocode/redis";
import type { ActiveSubmissionRef, Store } from "@sonocode/store";
import { Queue, type Job, type JobState } from "bullmq";
import { Redis } from "ioredis";
import type { ProblemClient } from "../clients/problem.client.js";
import { IE_REASONS } from "../domain/internal-error.verdict.js";
import { buildSubmissionJob } from "../domain/submission-job.builder.js";
import { queueInternalError } from "../queues/internal-error.result.js";
import { enqueueSubmission } from "../queues/submission.queue.js";

/**
 * Defaults: a tick every 10 s; a submission is a candidate once it is 30 s old
 * (well past the ~6 s an enqueue may take at POST time, so a request still in
 * flight is never raced); a lost job is re-driven at most 3 times, then IE.
 * Tests and the fault-injection suite run with e.g. periodMs 1_000, graceMs 1_000.
 */
export const RECONCILER_DEFAULTS = { periodMs: 10_000, graceMs: 30_000, maxRedrives: 3 } as const;

export interface ReconcilerDeps {
  store: Store;
  problems: ProblemClient;
  /** The SubmissionQueue producer (the same one POST enqueues with). */
  submissionQueue: Queue;
  redisUrl: string;
  prefix: string;
  logger: Logger;
  periodMs?: number;
  graceMs?: number;
  maxRedrives?: number;
  /** false: no timer, only runOnce() (tests). */
  autoStart?: boolean;
}

export interface ReconcileReport {
  /** Non-final submissions older than the grace period that were looked at. */
  scanned: number;
  /** Their job is waiting, active or delayed: an evaluator owns them. */
  live: number;
  /** Job finished or gone, but a result may still be on its way (EvaluationQueue backlog). */
  awaitingResult: number;
  /** Enqueued again with the same jobId (a lost hand-off or a lost job). */
  redriven: number;
  /** Given up as IE (attempts used up, or the problem is gone): the IE was queued for the results consumer. */
  failed: number;
  /** Left for the next tick (problem-service or Redis unavailable, lost the lock). */
  deferred: number;
}

export interface ReconcilerHandle {
  /** One pass if this replica wins the period's lock; null when another replica holds it. */
  runOnce(): Promise<ReconcileReport | null>;
  close(): Promise<void>;
}

const PAGE_SIZE = 200;
const LIVE_STATES: ReadonlySet<JobState | "unknown"> = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);
/** Scanning more of EvaluationQueue than this per tick is not worth it: treat it as a backlog. */
const BACKLOG_SCAN_LIMIT = 1_000;

interface Observation {
  ref: ActiveSubmissionRef;
  state: JobState | "unknown";
  job: Job | undefined;
  /** When the job was seen finished or gone: any result it produced was queued before this. */
  observedAt: number;
}

/**
 * Every non-final submission has an owner: while its SubmissionQueue job lives,
 * the evaluators; after that, this reconciler. It runs on every replica and acts
 * once per period (a Redis lock). Each tick scans Pending/Running submissions
 * older than the grace period through the recovery index (one empty index probe
 * when idle) and, for each whose job is finished or gone:
 *
 * - if EvaluationQueue still holds a job queued before the observation, its
 *   result may be in there: wait (the result consumer owns it);
 * - otherwise the hand-off or the result was lost: rebuild the payload from the
 *   problem (loaded again) and enqueue it with the same jobId, so at most one
 *   judging is queued, counting re-drives per submission in Redis;
 * - after maxRedrives, or when the problem is gone, give it up as IE with a clear
 *   message: the IE is queued as the judging's result, and the results consumer
 *   writes and announces it like any verdict (durably: internal-error.result.ts).
 *   Until it is written the row is still active, and its result is in
 *   EvaluationQueue, so the next tick waits for it (step 2 below).
 */
export function createSubmissionReconciler(deps: ReconcilerDeps): ReconcilerHandle {
  const periodMs = deps.periodMs ?? RECONCILER_DEFAULTS.periodMs;
  const graceMs = deps.graceMs ?? RECONCILER_DEFAULTS.graceMs;
  const maxRedrives = deps.maxRedrives ?? RECONCILER_DEFAULTS.maxRedrives;
  const log = deps.logger.child({ component: "reconciler" });

  // Fails fast while Redis is away: the tick is skipped, not queued up behind the outage.
  const redis = new Redis(deps.redisUrl, { connectionName: "submission-reconciler", enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 5_000 });
  let lastRedisError = 0;
  redis.on("error", (error) => {
    if (Date.now() - lastRedisError < 10_000) return;
    lastRedisError = Date.now();
    log.warn({ err: { message: error.message } }, "reconciler redis error");
  });
  const evaluationQueue = new Queue(QUEUES.evaluation, { connection: redis, prefix: deps.prefix });
  evaluationQueue.on("error", () => undefined);
  const lock = createPeriodLock(redis, `${deps.prefix}:submission-reconciler:lock`, periodMs);
  const redriveKey = (id: string) => `${deps.prefix}:submission-reconciler:redrives:${id}`;

  async function observe(ref: ActiveSubmissionRef): Promise<Observation> {
    const state = await deps.submissionQueue.getJobState(ref._id);
    const job = state === "completed" || state === "failed" ? await deps.submissionQueue.getJob(ref._id) : undefined;
    return { ref, state, job, observedAt: Date.now() };
  }

  /** The enqueue time of the oldest job EvaluationQueue still has to process (null: none). */
  async function oldestPendingEvaluation(): Promise<number | null> {
    const counts = await evaluationQueue.getJobCounts("wait", "active", "delayed", "prioritized");
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    if (total === 0) return null;
    if (total > BACKLOG_SCAN_LIMIT) return 0;
    const jobs = await evaluationQueue.getJobs(["wait", "active", "delayed", "prioritized"], 0, BACKLOG_SCAN_LIMIT);
    return jobs.reduce((oldest, job) => Math.min(oldest, job?.timestamp ?? oldest), Number.POSITIVE_INFINITY);
  }

  async function giveUp(submission: Submission, message: string, reportLog: Logger): Promise<void> {
    await queueInternalError(evaluationQueue, submission, message);
    reportLog.warn({ message }, "submission given up by the reconciler: IE queued for the results consumer");
  }

  async function redrive(observation: Observation, report: ReconcileReport): Promise<void> {
    const { ref, job } = observation;
    const itemLog = log.child({ submissionId: ref._id });
    // The row is re-read: a result may have been applied since the scan.
    const submission = await deps.store.submissions.findById(ref._id);
    if (!submission || submission.status !== "Pending" && submission.status !== "Running") return;

    const attempts = Number((await redis.get(redriveKey(ref._id))) ?? "0");
    if (attempts >= maxRedrives) {
      await giveUp(submission, IE_REASONS.gaveUp(attempts + 1), itemLog);
      report.failed++;
      return;
    }
    let problem;
    try {
      problem = await deps.problems.getProblem(submission.problemId);
    } catch (error) {
      // problem-service is down: no attempt is spent; the next tick tries again.
      itemLog.warn({ err: error }, "cannot rebuild the job now; deferred");
      report.deferred++;
      return;
    }
    if (!problem) {
      await giveUp(submission, IE_REASONS.problemGone, itemLog);
      report.failed++;
      return;
    }
    // A finished job with this id would make the add a silent no-op: remove it first.
    if (job) await job.remove();
    await redis.multi().incr(redriveKey(ref._id)).pexpire(redriveKey(ref._id), 24 * 3_600_000).exec();
    // Priority 1: it has waited long enough already.
    await enqueueSubmission(deps.submissionQueue, buildSubmissionJob(problem, submission), { priority: 1 });
    itemLog.warn({ previousState: observation.state, status: submission.status, attempt: attempts + 1 }, "submission re-enqueued by the reconciler");
    report.redriven++;
  }

  /** Without an offline queue a command before the first connect fails: wait for it, briefly. */
  async function connected(): Promise<void> {
    if (redis.status === "ready") return;
    await withTimeout(new Promise<void>((resolve) => redis.once("ready", () => resolve())), 3_000, "reconciler: redis not ready");
  }

  async function runOnce(): Promise<ReconcileReport | null> {
    await connected();
    if (!(await lock.acquire())) return null;
    const startedAt = Date.now();
    const report: ReconcileReport = { scanned: 0, live: 0, awaitingResult: 0, redriven: 0, failed: 0, deferred: 0 };
    const createdBefore = new Date(startedAt - graceMs).toISOString();

    // 1. Observe every candidate's job first, so the backlog check below happens after all observations.
    const orphans: Observation[] = [];
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const page = await deps.store.submissions.listActive({ createdBefore, after, limit: PAGE_SIZE });
      report.scanned += page.length;
      for (const observation of await Promise.all(page.map(observe))) {
        if (LIVE_STATES.has(observation.state)) report.live++;
        // A job that finished moments ago: its result (or the evaluator's IE) is normally on its way.
        else if (observation.job?.finishedOn !== undefined && observation.job.finishedOn > startedAt - graceMs) report.awaitingResult++;
        else orphans.push(observation);
      }
      if (page.length < PAGE_SIZE) break;
      const last = page[page.length - 1]!;
      after = { createdAt: last.createdAt, id: last._id };
      if (!(await lock.extend())) return report;
    }
    if (orphans.length === 0) return report;

    // 2. A result queued before the observation may still be waiting for the consumer.
    const oldestPending = await oldestPendingEvaluation();
    for (const observation of orphans) {
      if (oldestPending !== null && oldestPending <= observation.observedAt) {
        report.awaitingResult++;
        continue;
      }
      if (Date.now() - startedAt > periodMs / 2 && !(await lock.extend())) {
        report.deferred++;
        continue;
      }
      try {
        await redrive(observation, report);
      } catch (error) {
        report.deferred++;
        const level = isAppError(error) && error.status === 503 ? "warn" : "error";
        log[level]({ err: error, submissionId: observation.ref._id }, "reconciling a submission failed; retried next tick");
      }
    }
    const acted = report.redriven + report.failed;
    if (acted > 0 || report.deferred > 0) log.info({ ...report, ms: Date.now() - startedAt }, "reconciler tick");
    return report;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let closed = false;
  function schedule(): void {
    if (closed) return;
    // Jitter keeps replicas from hitting the lock in lockstep.
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error: unknown) => {
          const level = isAppError(error) && error.status === 503 ? "debug" : "warn";
          log[level]({ err: error }, "reconciler tick skipped");
        })
        .finally(schedule);
    }, Math.round(periodMs * (0.9 + Math.random() * 0.2)));
    timer.unref();
  }
  if (deps.autoStart !== false) schedule();

  return {
    runOnce,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      await evaluationQueue.close().catch(() => undefined);
      await quitRedis(redis);
    },
  };
}
