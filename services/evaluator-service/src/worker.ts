import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { QUEUES, RUN_JOB } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import { EngineHealth, type EngineStatus } from "./engine-health.js";
import { createEvaluationPublisher, type EvaluationPublisher } from "./evaluation.publisher.js";
import type { EvaluatorJudge } from "./judge.port.js";
import { EvaluatorMetrics } from "./metrics.js";
import type { TestSetProvider } from "./testsets/test-set.provider.js";
import { createEvaluateProcessor, IE_MESSAGES, internalErrorResult, InvalidPayloadError, jobIds, testCount, type EvaluateOutcome } from "./processors/evaluate.processor.js";
import { createRunProcessor, createRunPublisher, reportRunFailure } from "./processors/run.processor.js";
import { createRedisSandboxFailureCounter, DEFAULT_SANDBOX_RETRY, SandboxAttemptsExhaustedError, type SandboxRetryPolicy } from "./processors/sandbox-retry.js";
import { pingRedis, quitRedis } from "@sonocode/redis";

/** When the engine counts as broken and how it is retested (see EngineHealth). */
export interface EngineHealthPolicy {
  /** Sandbox failures in a row that take this evaluator out of rotation. */
  failureThreshold: number;
  /** Self-test cache for /health, and the retest period while out of rotation. */
  selfTestIntervalMs: number;
  selfTestTimeoutMs: number;
}

export const DEFAULT_ENGINE_HEALTH: EngineHealthPolicy = { failureThreshold: 3, selfTestIntervalMs: 10_000, selfTestTimeoutMs: 5_000 };

export interface EvaluatorWorkerDeps {
  redisUrl: string;
  /** REDIS_PREFIX: BullMQ key prefix, the same one the submission-service produces with. */
  prefix: string;
  judge: EvaluatorJudge;
  logger: Logger;
  /** Submissions judged at once by this process (default 1: the judge is CPU-bound). */
  concurrency?: number;
  /** Retries of a job whose sandbox broke (default DEFAULT_SANDBOX_RETRY). */
  sandboxRetry?: Partial<SandboxRetryPolicy>;
  /** When this evaluator takes itself out of rotation (default DEFAULT_ENGINE_HEALTH). */
  engineHealth?: Partial<EngineHealthPolicy>;
  /** Resolves jobs' test-set references (problem-service + local disk cache); see testsets/. */
  testSets?: TestSetProvider | undefined;
  /** Minimum gap between two progress events of one submission (default 250 ms; see ProgressCoalescer). */
  progressIntervalMs?: number | undefined;
}

export interface EvaluatorWorker {
  worker: Worker<unknown, EvaluateOutcome>;
  metrics: EvaluatorMetrics;
  /** Rejects when Redis does not answer (GET /health). */
  redisPing(): Promise<void>;
  /** The sandbox engine's health for GET /health: a cached self-test, and whether this evaluator is out of rotation. */
  engineStatus(): Promise<EngineStatus>;
  /** Stops taking jobs, waits for the running ones, closes the queue, quits Redis. */
  close(): Promise<void>;
}

/**
 * Lock and stall timings: a dead evaluator's job must be re-run by another within 10 s, and a
 * live one must never lose its lock, however long it judges and however busy the CPU is.
 *
 * - The lock is renewed about every lockRenewTime (BullMQ looks every lockRenewTime/2 and
 *   renews the locks older than that), so a live evaluator can go lockDuration - 1.5 x
 *   lockRenewTime = 2.8 s without reaching Redis (event-loop stall, GC, Redis hiccup) before
 *   anything is at risk. Nothing in the evaluator runs long on the event loop: the judge awaits
 *   child processes and the checkers run off the loop; /metrics reports the worst event-loop
 *   delay seen (about 0.2 s measured with every core saturated, apps/platform/test/faults).
 * - A killed evaluator's lock lapses at most lockDuration after its last renewal; some live
 *   evaluator's stalled check (every stalledInterval, one per interval across the fleet) then
 *   moves the job back to wait, and an idle evaluator starts it at once: at worst
 *   lockDuration + stalledInterval = 5.5 s from the kill to the restart, leaving the rest of
 *   the 10 s for the re-judge.
 * - maxStalledCount 2: a job may lose its evaluator twice (two crashes, or a Redis restart that
 *   drops the lock); a third time it is failed and reported IE, so a job that kills every
 *   evaluator it lands on cannot take the fleet down one process at a time forever.
 * Cost: about one lock renewal per running job per 0.8 s and one stalled check per 1.5 s per queue.
 */
export const WORKER_TIMINGS = {
  lockDuration: 4_000,
  lockRenewTime: 800,
  stalledInterval: 1_500,
  maxStalledCount: 2,
} as const;

export function createEvaluatorWorker(deps: EvaluatorWorkerDeps): EvaluatorWorker {
  const logger = deps.logger;
  const metrics = new EvaluatorMetrics();
  const onRedisError = (name: string) => {
    let last = 0;
    return (error: Error) => {
      if (Date.now() - last > 5_000) {
        last = Date.now();
        logger.warn({ redis: name, err: { message: error.message } }, "redis connection error");
      }
    };
  };

  // Producer connection: the default offline queue lets a publish ride out a short Redis
  // blip instead of failing the job (this is a worker, not an HTTP path that must 503 fast).
  const producer = new Redis(deps.redisUrl, { connectionName: "evaluator-producer" });
  producer.on("error", onRedisError("evaluator-producer"));
  // Worker connection: BullMQ's blocking commands require maxRetriesPerRequest: null.
  const consumer = new Redis(deps.redisUrl, { connectionName: "evaluator-worker", maxRetriesPerRequest: null });
  consumer.on("error", onRedisError("evaluator-worker"));

  const evaluationQueue = new Queue(QUEUES.evaluation, { connection: producer, prefix: deps.prefix });
  evaluationQueue.on("error", (error) => logger.warn({ err: { message: error.message } }, "evaluation queue error"));
  const publisher: EvaluationPublisher = createEvaluationPublisher(evaluationQueue);

  // Out of rotation = this worker fetches nothing; jobs already running finish (or fail and are retried).
  // Declared before the worker exists because the processor needs it; the callbacks run only later.
  let worker: Worker<unknown, EvaluateOutcome> | undefined;
  const engineHealth = new EngineHealth({
    ...DEFAULT_ENGINE_HEALTH,
    ...deps.engineHealth,
    selfTest: () => deps.judge.selfTest(),
    logger: logger.child({ component: "engine-health" }),
    onBroken: async () => {
      metrics.outOfRotation = true;
      await worker?.pause(true);
    },
    onRecovered: () => {
      metrics.outOfRotation = false;
      worker?.resume();
    },
  });
  const sandboxRetry = { ...DEFAULT_SANDBOX_RETRY, ...deps.sandboxRetry };
  const processor = createEvaluateProcessor({
    judge: deps.judge,
    publisher,
    logger,
    metrics,
    engineHealth,
    sandboxRetry,
    sandboxFailures: createRedisSandboxFailureCounter(producer, deps.prefix),
    lockDurationMs: WORKER_TIMINGS.lockDuration,
    testSets: deps.testSets,
    progressIntervalMs: deps.progressIntervalMs,
  });
  // "run" jobs (POST /api/v1/runs) share the queue and the slots; they carry no submission.
  const runPublisher = createRunPublisher(evaluationQueue);
  const runProcessor = createRunProcessor({ judge: deps.judge, publisher: runPublisher, logger, engineHealth, testSets: deps.testSets, lockDurationMs: WORKER_TIMINGS.lockDuration });
  worker = new Worker<unknown, EvaluateOutcome>(QUEUES.submission, (job, token, signal) => (job.name === RUN_JOB ? runProcessor(job, token, signal) : processor(job, token, signal)), {
    connection: consumer,
    prefix: deps.prefix,
    concurrency: deps.concurrency ?? 1,
    ...WORKER_TIMINGS,
    // Started below, once the sandbox has passed a self-test.
    autorun: false,
  });

  worker.on("error", (error) => logger.error({ err: error }, "worker error"));
  worker.on("stalled", (jobId) => logger.warn({ jobId }, "job stalled: its evaluator stopped renewing the lock; it will be re-run"));
  worker.on("lockRenewalFailed", (jobIdsLost) => {
    metrics.recordLockRenewalFailures(jobIdsLost.length);
    logger.error({ jobIds: jobIdsLost }, "could not renew job locks; another evaluator may re-run them");
  });
  worker.on("failed", (job: Job<unknown> | undefined, error: Error) => {
    metrics.recordFailedAttempt();
    if (!job) return;
    if (job.name === RUN_JOB) return void reportRunFailure(job, error, runPublisher, logger);
    void reportTerminalFailure(job, error);
  });

  /**
   * Safety net: when a job has failed for good (retries used up, stalled too often) the
   * submission would stay Running forever. Report IE; the consumer's write is idempotent.
   */
  async function reportTerminalFailure(job: Job<unknown>, error: Error): Promise<void> {
    const log = logger.child({ jobId: job.id });
    if (error instanceof InvalidPayloadError) return; // its IE went out before the throw
    try {
      if ((await job.getState()) !== "failed") {
        log.warn({ err: { message: error.message }, attemptsMade: job.attemptsMade }, "job attempt failed; it will be retried");
        return;
      }
      const ids = jobIds(job.data);
      log.error({ err: { message: error.message }, submissionId: ids?.submissionId }, "job failed for good; reporting IE");
      if (!ids) return;
      const message = error instanceof SandboxAttemptsExhaustedError ? IE_MESSAGES.sandboxFailed : IE_MESSAGES.evaluationFailed;
      await publisher.result(internalErrorResult(ids, testCount(job.data), message));
      metrics.recordResult("IE");
    } catch (publishError) {
      log.error({ err: publishError }, "could not report IE for a failed job");
    }
  }

  /**
   * BullMQ's graceful close never settles while Redis is unreachable (checked on 5.81). A job
   * running then cannot report anyway; its lock expires and another evaluator re-runs it. So:
   * force when Redis is already down, and stop waiting if it goes down while we drain.
   */
  async function closeWorker(running: Worker<unknown, EvaluateOutcome>): Promise<void> {
    if (consumer.status !== "ready") {
      await running.close(true);
      return;
    }
    const graceful = running.close();
    let timer: NodeJS.Timeout | undefined;
    const redisLost = new Promise<void>((resolve) => {
      timer = setInterval(() => {
        if (consumer.status !== "ready") {
          logger.warn("redis lost while draining; not waiting for the running job");
          resolve();
        }
      }, 250);
    });
    try {
      await Promise.race([graceful, redisLost]);
    } finally {
      clearInterval(timer);
    }
  }

  let closing: Promise<void> | undefined;
  const running = worker;
  // No job before a working sandbox: a failed start-up self-test leaves the worker out of
  // rotation, and the retest loop's resume() starts it once the engine works.
  void engineHealth.admit().then((admitted) => {
    if (!admitted || closing) return;
    running.run().catch((error: unknown) => logger.error({ err: error }, "worker stopped"));
  });
  return {
    worker: running,
    metrics,
    redisPing: () => pingRedis(producer),
    engineStatus: () => engineHealth.check(),
    close() {
      closing ??= (async () => {
        // Reverse order of start: no more self-tests or resumes, stop consuming (waits for running jobs),
        // then the producer side, then Redis.
        await engineHealth.close();
        await closeWorker(running);
        await evaluationQueue.close();
        await Promise.all([quitRedis(consumer), quitRedis(producer)]);
        metrics.stop();
      })();
      return closing;
    },
  };
}
