// Starts submission-service alone (distributed mode). The only place that reads
// process.env, listens, and handles signals; everything else is built by factories.
import { ConfigError, assertProductionSafe, loadConfig } from "@sonocode/config";
import { createLogger } from "@sonocode/logger";
import { createStore, storeConfigFromEnv } from "@sonocode/store";
import { buildSubmissionApp } from "./app.js";
import { createProblemClient } from "./clients/problem.client.js";
import { submissionEnvSchema } from "./config.js";
import { createSubmissionQueue } from "./queues/submission.queue.js";
import { createResultConsumer } from "./workers/results.consumer.js";

async function main(): Promise<void> {
  const config = loadConfig(submissionEnvSchema);
  assertProductionSafe(config);
  const redisUrl = config.REDIS_URL;
  if (!redisUrl) {
    throw new ConfigError("REDIS_URL is required for submission-service in distributed mode (e.g. redis://127.0.0.1:6379); the embedded launcher starts a local Redis for you");
  }
  const logger = createLogger({ service: "submission-service", level: config.LOG_LEVEL });

  // Started in order; closed in reverse order by shutdown().
  const closers: { name: string; close: () => Promise<void> }[] = [];
  let shuttingDown = false;
  async function shutdown(reason: string, exitCode: number): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ reason }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, "shutdown timed out; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
        logger.info({ component: name }, "closed");
      } catch (error) {
        logger.error({ err: error, component: name }, "close failed");
      }
    }
    clearTimeout(timer);
    process.exit(exitCode);
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM", 0));
  process.once("SIGINT", () => void shutdown("SIGINT", 0));

  try {
    const store = await createStore(storeConfigFromEnv(config));
    closers.push({ name: "store", close: () => store.close() });

    const submissionQueue = createSubmissionQueue({ redisUrl, prefix: config.REDIS_PREFIX });
    closers.push({ name: "submission-queue", close: () => submissionQueue.close() });

    const consumer = createResultConsumer({
      store,
      redisUrl,
      prefix: config.REDIS_PREFIX,
      logger,
      concurrency: config.RESULT_CONCURRENCY,
    });
    closers.push({ name: "results-consumer", close: () => consumer.close() });

    const app = await buildSubmissionApp({
      store,
      problems: createProblemClient({ baseUrl: config.PROBLEM_SERVICE_URL, jwtSecret: config.JWT_SECRET }),
      submissionQueue: submissionQueue.queue,
      jwtSecret: config.JWT_SECRET,
      logger,
      maxCodeBytes: config.MAX_CODE_BYTES,
    });
    // app.close() stops accepting connections and waits for in-flight requests.
    closers.push({ name: "http", close: () => app.close() });
    await app.listen({ host: config.HOST, port: config.SUBMISSION_SERVICE_PORT });
  } catch (error) {
    logger.fatal({ err: error }, "start-up failed");
    await shutdown("start-up failed", 1);
  }
}

main().catch((error: unknown) => {
  // Config errors happen before a logger exists: print them plainly.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
