import { QUEUES, submissionJobId, type JudgingProblem, type Submission } from "@sonocode/contracts";
import { isAppError } from "@sonocode/errors";
import type { Logger } from "@sonocode/logger";
import { createPeriodLock, quitRedis, withTimeout } from "@sonocode/redis";
import type { Store } from "@sonocode/store";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { ProblemClient } from "../clients/problem.client.js";
import { IE_REASONS } from "../domain/internal-error.verdict.js";
import { buildSubmissionJob } from "../domain/submission-job.builder.js";
import { queueInternalError } from "../queues/internal-error.result.js";
import { enqueueSubmission } from "../queues/submission.queue.js";
import { createRejudgeMarker, type RejudgeMarkReport } from "./rejudge.marker.js";

/**
 * BullMQ priority of rejudge jobs (lower = sooner). Fresh submissions are queued at
 * 1..1000 (a user's k-th in flight at k) and runs ahead of them, so anything fresh
 * overtakes every rejudge job already waiting. BullMQ's largest priority is 2^21.
 */
export const REJUDGE_PRIORITY = 1_000_000;

/**
 * window: rejudges judged or queued at once (the rest wait in the database, not in Redis, so a
 * rejudge of 100,000 submissions costs Redis 32 jobs); periodMs: top-up tick (also the lock's
 * period); reensureMs: how long a job once added is trusted to exist before it is added again
 * (a no-op while it does: same jobId), which recovers a job Redis lost; maxIdlePeriods: while
 * ticks find nothing to do, the gap between them doubles up to this many periods (see schedule).
 */
export const REJUDGE_FEEDER_DEFAULTS = { window: 32, periodMs: 1_000, reensureMs: 60_000, maxAttempts: 3, maxIdlePeriods: 4 } as const;

/**
 * What the submitter reads when a rejudge's job kept finishing without its result reaching the
 * database (a poison job: say, a result the evaluator cannot publish). Plain ASCII, no internals.
 */
export const rejudgeGaveUpMessage = (attempts: number) =>
  `internal error: this rejudge was judged ${attempts} times without its result being stored; an admin can rejudge the problem again`;


export interface RejudgeFeederDeps {
  store: Store;
  problems: ProblemClient;
  submissionQueue: Queue;
  redisUrl: string;
  prefix: string;
  logger: Logger;
  window?: number;
  periodMs?: number;
  reensureMs?: number;
  /**
   * Judgings per submission and generation: a rejudge job that finished this many times
   * without its result reaching the database is made IE (counted in stats().gaveUp) instead of
   * being queued again, so a poison job cannot hold a window slot forever.
   */
  maxAttempts?: number;
  /** The background marking of rejudge requests, run at the start of each tick (REJUDGE_MARKER_DEFAULTS). */
  marking?: { pageSize?: number; budgetMs?: number };
  /** Back-off cap while idle, in periods (REJUDGE_FEEDER_DEFAULTS.maxIdlePeriods; 1: no back-off). */
  maxIdlePeriods?: number;
  /** false: no timer, only runOnce() and wake() (tests). */
  autoStart?: boolean;
}

export interface RejudgeFeedReport {
  /** Rejudges in the window (oldest first). */
  inWindow: number;
  /** Jobs added this tick (first adds and re-ensured ones). */
  enqueued: number;
  /** Given up as IE (queued for the results consumer): the problem is gone. */
  failed: number;
  /** Left for the next tick (problem-service or Redis away). */
  deferred: number;
  /** Given up as IE (queued for the results consumer): judged maxAttempts times, the result never stored. */
  gaveUp: number;
  /** The marking step of this tick (null: it failed, and is retried next tick). */
  marking: RejudgeMarkReport | null;
}

export interface RejudgeFeederStats {
  /** IE give-ups this process queued for rejudges judged maxAttempts times without a stored result (one may be queued again while its IE waits). */
  gaveUp: number;
}

export interface RejudgeFeeder {
  /** One tick if this replica wins the period's lock; null when another replica acts this period. */
  runOnce(): Promise<RejudgeFeedReport | null>;
  /** A rejudge was just marked: tick now rather than at the next period. */
  wake(): void;
  /** Counters for metrics and health output. */
  stats(): RejudgeFeederStats;
  close(): Promise<void>;
}

/**
 * Keeps a bounded window of rejudges queued. Each tick first runs a bounded marking step of the
 * rejudge requests still marking (rejudge.marker.ts). A rejudged submission is Pending with a new
 * generation in the database (the durable backlog); this feeder, on every replica but acting
 * once per period (a Redis lock), reads the oldest `window` rejudges still to finish and makes
 * sure each has its job (jobId per generation, REJUDGE_PRIORITY). As they finish, the next
 * enter the window. So a large rejudge never floods Redis, never delays a fresh submission by
 * more than the judging in progress, and survives restarts: the database says what is left.
 * A job that finishes without its result reaching the database is queued again, up to
 * maxAttempts judgings per generation; then the submission is given up as IE (queued as the
 * judging's result for the results consumer, internal-error.result.ts), so a poison job cannot
 * keep a window slot (with 32 of them, the whole rejudge) forever.
 */
export function createRejudgeFeeder(deps: RejudgeFeederDeps): RejudgeFeeder {
  const window = deps.window ?? REJUDGE_FEEDER_DEFAULTS.window;
  const periodMs = deps.periodMs ?? REJUDGE_FEEDER_DEFAULTS.periodMs;
  const reensureMs = deps.reensureMs ?? REJUDGE_FEEDER_DEFAULTS.reensureMs;
  const maxAttempts = Math.max(1, deps.maxAttempts ?? REJUDGE_FEEDER_DEFAULTS.maxAttempts);
  const maxIdlePeriods = Math.max(1, deps.maxIdlePeriods ?? REJUDGE_FEEDER_DEFAULTS.maxIdlePeriods);
  const mark = createRejudgeMarker({ store: deps.store, logger: deps.logger, ...deps.marking });
  const stats: RejudgeFeederStats = { gaveUp: 0 };
  const log = deps.logger.child({ component: "rejudge-feeder" });
  const redis = new Redis(deps.redisUrl, { connectionName: "rejudge-feeder", enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 5_000 });
  let lastRedisError = 0;
  redis.on("error", (error) => {
    if (Date.now() - lastRedisError < 10_000) return;
    lastRedisError = Date.now();
    log.warn({ err: { message: error.message } }, "rejudge feeder redis error");
  });
  // Held for half a period: replicas still take turns, and this replica's next tick (or a wake) finds it free.
  // Not exclusive for a whole tick (a slow one overlaps the next replica's): everything a tick does is
  // safe twice (same jobIds, generation-guarded finalize, marking under row locks, the attempt set below).
  const lock = createPeriodLock(redis, `${deps.prefix}:rejudge-feeder:lock`, Math.max(1, Math.round(periodMs / 2)));
  // Give-ups go to the results consumer as the judging's result (internal-error.result.ts).
  const evaluationQueue = new Queue(QUEUES.evaluation, { connection: redis, prefix: deps.prefix });
  evaluationQueue.on("error", () => undefined);
  /** jobId -> when this process last added it. */
  const ensured = new Map<string, number>();
  /**
   * Judgings of one generation that finished without a stored result, shared by every replica (a
   * day's TTL): a set of the finished jobs' identities, counted with SCARD. A set, not a counter:
   * two feeders can look at the same finished job (the period lock is held for half a period, and
   * a tick with marking in it outlasts that, so another replica's tick overlaps this one; or a
   * remove failed after the count and the next tick sees the job again), and each must count it
   * once. Making the lock exclusive for a whole tick would not cover the second case, and would
   * need extending around every slow step; an idempotent count needs neither. (Not the old
   * counter's `finished:` key: a string left there would fail SADD with WRONGTYPE in an upgrade.)
   */
  const finishedKey = (jobId: string) => `${deps.prefix}:rejudge-feeder:attempts:${jobId}`;
  /** One judging's identity: its job's add time and finish time (a re-added job has its own). */
  const attemptId = (job: { timestamp: number; finishedOn?: number | undefined }) => `${job.timestamp}:${job.finishedOn ?? 0}`;

  async function countFinished(jobId: string, job: { timestamp: number; finishedOn?: number | undefined }): Promise<number> {
    const key = finishedKey(jobId);
    const replies = await redis.multi().sadd(key, attemptId(job)).pexpire(key, 24 * 3_600_000).scard(key).exec();
    const failed = replies?.find(([error]) => error !== null);
    if (!replies || failed) throw failed?.[0] ?? new Error("rejudge feeder: attempt count not recorded");
    return Number(replies[2]![1]);
  }

  async function connected(): Promise<void> {
    if (redis.status === "ready") return;
    await withTimeout(new Promise<void>((resolve) => redis.once("ready", () => resolve())), 3_000, "rejudge feeder: redis not ready");
  }

  /**
   * Queues the IE of a rejudge given up (its problem gone, or judged `attempts` times without a
   * stored result) and keeps this replica from queuing it again while the consumer writes it.
   */
  async function giveUp(submission: Submission, jobId: string, why: { problemGone: true } | { attempts: number }, report: RejudgeFeedReport, itemLog: Logger): Promise<void> {
    if ("problemGone" in why) {
      await queueInternalError(evaluationQueue, submission, IE_REASONS.problemGone);
      report.failed++;
      itemLog.warn("rejudged submission given up: its problem is gone; IE queued for the results consumer");
    } else {
      await queueInternalError(evaluationQueue, submission, rejudgeGaveUpMessage(why.attempts));
      report.gaveUp++;
      stats.gaveUp++;
      itemLog.error({ attempts: why.attempts }, "rejudge given up: its job finished every time without its result reaching the database; IE queued for the results consumer");
    }
    ensured.set(jobId, Date.now());
  }

  async function runOnce(): Promise<RejudgeFeedReport | null> {
    await connected();
    if (!(await lock.acquire())) return null;
    const report: RejudgeFeedReport = { inWindow: 0, enqueued: 0, failed: 0, deferred: 0, gaveUp: 0, marking: null };
    // Marking first: rejudges it moves back to Pending can enter this tick's window.
    try {
      report.marking = await mark();
    } catch (error) {
      const level = isAppError(error) && error.status === 503 ? "warn" : "error";
      log[level]({ err: error }, "rejudge marking step failed; retried next tick");
    }
    const refs = await deps.store.rejudges.listRejudging(window);
    report.inWindow = refs.length;
    const now = Date.now();
    const inWindow = new Set<string>();
    const problems = new Map<string, Promise<JudgingProblem | null>>();
    for (const ref of refs) {
      const jobId = submissionJobId(ref._id, ref.rejudgeGeneration);
      inWindow.add(jobId);
      const added = ensured.get(jobId);
      if (added !== undefined && now - added < reensureMs) continue;
      const itemLog = log.child({ submissionId: ref._id, generation: ref.rejudgeGeneration });
      try {
        // Still unfinished long after its job finished: the result was lost (a finished job would
        // make the add a silent no-op, so it goes first). A result merely late is judged twice, harmlessly.
        const previous = await deps.submissionQueue.getJob(jobId);
        if (previous?.finishedOn !== undefined && now - previous.finishedOn < reensureMs) continue;
        const submission = await deps.store.submissions.findById(ref._id);
        // Finished (or rejudged again) since the scan: nothing to queue for this generation.
        if (!submission || (submission.status !== "Pending" && submission.status !== "Running") || (submission.rejudgeGeneration ?? 0) !== ref.rejudgeGeneration) continue;
        if (previous?.finishedOn !== undefined) {
          const finished = await countFinished(jobId, previous);
          if (finished >= maxAttempts) {
            await giveUp(submission, jobId, { attempts: finished }, report, itemLog);
            await previous.remove();
            continue;
          }
          await previous.remove();
          itemLog.warn({ attempt: finished + 1, maxAttempts }, "rejudge job finished without its result reaching the database; queued again");
        } else if (previous === undefined) {
          // Given up already (by this replica or another) and its IE not written yet (the consumer
          // is behind, or the database away): the IE is queued again, not one more judging.
          const judged = await redis.scard(finishedKey(jobId));
          if (judged >= maxAttempts) {
            await giveUp(submission, jobId, { attempts: judged }, report, itemLog);
            continue;
          }
        }
        let problem = problems.get(ref.problemId);
        if (!problem) {
          problem = deps.problems.getProblem(ref.problemId);
          problems.set(ref.problemId, problem);
        }
        const judging = await problem;
        if (!judging) {
          await giveUp(submission, jobId, { problemGone: true }, report, itemLog);
          continue;
        }
        await enqueueSubmission(deps.submissionQueue, buildSubmissionJob(judging, submission), { priority: REJUDGE_PRIORITY });
        ensured.set(jobId, Date.now());
        report.enqueued++;
      } catch (error) {
        report.deferred++;
        const level = isAppError(error) && error.status === 503 ? "warn" : "error";
        itemLog[level]({ err: error }, "could not queue a rejudge; retried next tick");
      }
    }
    // Finished rejudges leave the window: forget them.
    for (const jobId of ensured.keys()) if (!inWindow.has(jobId)) ensured.delete(jobId);
    if (report.enqueued > 0 || report.failed > 0 || report.deferred > 0 || report.gaveUp > 0 || (report.marking?.moved ?? 0) > 0) log.info(report, "rejudge feeder tick");
    return report;
  }

  /**
   * Nothing to do anywhere: no rejudge marking or in the window, no step failed.
   * A tick that lost the lock (null) or threw says nothing about that, and is not idle.
   */
  function idle(report: RejudgeFeedReport | null): boolean {
    if (report === null || report.marking === null) return false;
    return report.inWindow === 0 && report.marking.marking === 0 && report.marking.moved === 0 && report.marking.finished === 0;
  }

  let timer: NodeJS.Timeout | undefined;
  /** Idle ticks in a row: the next gap is periodMs * 2^idleTicks, at most maxIdlePeriods periods. */
  let idleTicks = 0;
  let running: Promise<unknown> = Promise.resolve();
  let ticking = false;
  let again = false;
  let closed = false;

  function tick(): void {
    if (closed) return;
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    clearTimeout(timer);
    running = runOnce()
      .then((report) => {
        idleTicks = idle(report) ? idleTicks + 1 : 0;
      })
      .catch((error: unknown) => {
        idleTicks = 0;
        const level = isAppError(error) && error.status === 503 ? "debug" : "warn";
        log[level]({ err: error }, "rejudge feeder tick skipped");
      })
      .finally(() => {
        ticking = false;
        if (again) {
          again = false;
          idleTicks = 0;
          // A wake during the tick: the lock of this period is ours or another replica's; try after it.
          schedule(periodMs);
        } else schedule();
      });
  }

  /**
   * The next tick in about one period, or later while idle: an idle tick still costs a lock round
   * trip and two database reads (marking requests, the window), which a busy platform pays every
   * second for nothing. A rejudge requested on this replica wakes it at once (wake), so the
   * back-off only delays one that another replica recorded and then left unmarked or unqueued
   * (it crashed): by at most maxIdlePeriods periods. Any tick with work resets it.
   */
  function schedule(delayMs = Math.round(periodMs * Math.min(2 ** idleTicks, maxIdlePeriods) * (0.9 + Math.random() * 0.2))): void {
    if (closed || deps.autoStart === false) return;
    clearTimeout(timer);
    timer = setTimeout(tick, delayMs);
    timer.unref();
  }
  schedule();

  return {
    runOnce,
    wake() {
      if (deps.autoStart === false) return;
      idleTicks = 0;
      tick();
    },
    stats: () => ({ ...stats }),
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      await evaluationQueue.close().catch(() => undefined);
      await quitRedis(redis);
    },
  };
}
