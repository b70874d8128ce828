// Starts submission-service alone (distributed mode). The only place that reads
// process.env, listens, and handles signals; everything else is built by factories.
import { distributedRedisEnvSchema, loadConfig } from "@sonocode/config";
import { closeInReverse, onShutdownSignals, runMain, type Closer } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import { createStore, storeConfigFromEnv } from "@sonocode/store";
import { buildSubmissionApp } from "./app.js";
import { createProblemCache } from "./clients/problem-cache.client.js";
import { createProblemClient } from "./clients/problem.client.js";
import { submissionEnvSchema } from "./config.js";
import { createSubmissionQueue } from "./queues/submission.queue.js";
import { createResultConsumer } from "./workers/results.consumer.js";
import { createSubmissionReconciler } from "./workers/submission.reconciler.js";
import { createRejudgeFeeder } from "./rejudge/rejudge.feeder.js";

runMain(async () => {
  const config = loadConfig(submissionEnvSchema.extend(distributedRedisEnvSchema.shape));
  const logger = createLogger({ service: "submission-service", level: config.LOG_LEVEL });

  // Started in order; closed in reverse order by shutdown(), also when start-up fails half way.
  const closers: Closer[] = [];
  const shutdown = onShutdownSignals({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, stop: () => closeInReverse(closers, logger) });

  try {
    const store = await createStore(storeConfigFromEnv(config), { logger: logger.child({ component: "store" }) });
    closers.push({ name: "store", close: () => store.close() });

    const submissionQueue = createSubmissionQueue({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX });
    closers.push({ name: "submission-queue", close: () => submissionQueue.close() });

    const consumer = createResultConsumer({
      store,
      redisUrl: config.REDIS_URL,
      prefix: config.REDIS_PREFIX,
      logger,
      concurrency: config.RESULT_CONCURRENCY,
    });
    closers.push({ name: "results-consumer", close: () => consumer.close() });

    const problems = createProblemClient({ baseUrl: config.PROBLEM_SERVICE_URL, jwtSecret: config.JWT_SECRET });
    // Owns every submission whose job was lost (crash between commit and enqueue, lost result, dead job).
    const reconciler = createSubmissionReconciler({
      store,
      problems,
      submissionQueue: submissionQueue.queue,
      redisUrl: config.REDIS_URL,
      prefix: config.REDIS_PREFIX,
      logger,
      periodMs: config.RECONCILE_PERIOD_MS,
      graceMs: config.RECONCILE_GRACE_MS,
      maxRedrives: config.RECONCILE_MAX_ATTEMPTS,
    });
    closers.push({ name: "reconciler", close: () => reconciler.close() });
    // Owns every rejudge still to finish: keeps a bounded window of them queued behind fresh work.
    // Also marks recorded rejudge requests in the background, a bounded step per tick.
    const rejudgeFeeder = createRejudgeFeeder({
      store,
      problems,
      submissionQueue: submissionQueue.queue,
      redisUrl: config.REDIS_URL,
      prefix: config.REDIS_PREFIX,
      logger,
      maxAttempts: config.REJUDGE_MAX_ATTEMPTS,
    });
    closers.push({ name: "rejudge-feeder", close: () => rejudgeFeeder.close() });

    // POSTs read the judging view from a per-replica cache that problem-service's change
    // announcements invalidate; the reconciler (rare, and deciding "problem gone") asks directly.
    const problemCache = createProblemCache({
      source: problems,
      redisUrl: config.REDIS_URL,
      prefix: config.REDIS_PREFIX,
      logger,
      ttlMs: config.PROBLEM_CACHE_TTL_MS,
      maxEntries: config.PROBLEM_CACHE_MAX_ENTRIES,
    });
    closers.push({ name: "problem-cache", close: () => problemCache.close() });

    const app = await buildSubmissionApp({
      store,
      problems: problemCache,
      submissionQueue: submissionQueue.queue,
      jwtSecret: config.JWT_SECRET,
      logger,
      maxCodeBytes: config.MAX_CODE_BYTES,
      limits: { perMinute: config.SUBMISSION_RATE_LIMIT_PER_MINUTE, maxInFlight: config.SUBMISSION_MAX_IN_FLIGHT },
      rejudgeFeeder,
    });
    // app.close() stops accepting connections and waits for in-flight requests.
    closers.push({ name: "http", close: () => app.close() });
    await app.listen({ host: config.HOST, port: config.SUBMISSION_SERVICE_PORT });
  } catch (error) {
    logger.fatal({ err: error }, "start-up failed");
    await shutdown("start-up failed", 1);
  }
});
