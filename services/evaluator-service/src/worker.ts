import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { QUEUES } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import { createEvaluationPublisher, type EvaluationPublisher } from "./evaluation.publisher.js";
import type { EvaluatorJudge } from "./judge.port.js";
import { EvaluatorMetrics } from "./metrics.js";
import { createEvaluateProcessor, IE_MESSAGES, internalErrorResult, InvalidPayloadError, jobIds, testCount, type EvaluateOutcome } from "./processors/evaluate.processor.js";
import { pingRedis, quitRedis } from "@sonocode/redis";

export interface EvaluatorWorkerDeps {
  redisUrl: string;
  /** REDIS_PREFIX: BullMQ key prefix, the same one the submission-service produces with. */
  prefix: string;
  judge: EvaluatorJudge;
  logger: Logger;
  /** Submissions judged at once by this process (default 1: the judge is CPU-bound). */
  concurrency?: number;
}

export interface EvaluatorWorker {
  worker: Worker<unknown, EvaluateOutcome>;
  metrics: EvaluatorMetrics;
  /** Rejects when Redis does not answer (GET /health). */
  redisPing(): Promise<void>;
  /** Stops taking jobs, waits for the running ones, closes the queue, quits Redis. */
  close(): Promise<void>;
}

/**
 * A dead evaluator's job is noticed after lockDuration and re-run by another one (at most
 * maxStalledCount times, then failed, and the failed hook reports IE). Locks are renewed every
 * lockDuration/2 while a slow judge runs: the judge awaits child processes, so the event loop
 * stays free to renew.
 */
export const WORKER_TIMINGS = {
  lockDuration: 60_000,
  stalledInterval: 30_000,
  maxStalledCount: 1,
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

  const worker = new Worker<unknown, EvaluateOutcome>(QUEUES.submission, createEvaluateProcessor({ judge: deps.judge, publisher, logger, metrics }), {
    connection: consumer,
    prefix: deps.prefix,
    concurrency: deps.concurrency ?? 1,
    ...WORKER_TIMINGS,
  });

  worker.on("error", (error) => logger.error({ err: error }, "worker error"));
  worker.on("stalled", (jobId) => logger.warn({ jobId }, "job stalled: its evaluator stopped renewing the lock; it will be re-run"));
  worker.on("failed", (job: Job<unknown> | undefined, error: Error) => {
    metrics.recordFailedAttempt();
    if (!job) return;
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
      await publisher.result(internalErrorResult(ids, testCount(job.data), IE_MESSAGES.evaluationFailed));
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
  async function closeWorker(): Promise<void> {
    if (consumer.status !== "ready") {
      await worker.close(true);
      return;
    }
    const graceful = worker.close();
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
  return {
    worker,
    metrics,
    redisPing: () => pingRedis(producer),
    close() {
      closing ??= (async () => {
        // Reverse order of start: stop consuming (waits for running jobs), then the producer side, then Redis.
        await closeWorker();
        await evaluationQueue.close();
        await Promise.all([quitRedis(consumer), quitRedis(producer)]);
      })();
      return closing;
    },
  };
}
