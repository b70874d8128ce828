// Process entry point: the only file of the service that reads the environment,
// listens, and handles signals. Everything else is built by buildProblemApp.
import { createServer } from "node:http";
import { baseEnvSchema, loadConfig, portsEnvSchema, storeEnvSchema } from "@sonocode/config";
import { z } from "zod";
import { closeHttpServer, listenHttp, onShutdownSignals, runMain } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import { createStore, storeConfigFromEnv } from "@sonocode/store";
import { buildProblemApp } from "./app.js";
import { createRejudgeClient } from "./clients/rejudge.client.js";
import { connectProblemChangePublisher, type RedisProblemChangePublisher } from "./events/problem-changes.publisher.js";

runMain(async () => {
  // SUBMISSION_SERVICE_URL: where POST /api/v1/problems/:id/rejudge hands the rejudge to.
  const config = loadConfig(baseEnvSchema.merge(storeEnvSchema).merge(portsEnvSchema).extend({ SUBMISSION_SERVICE_URL: z.url().default("http://127.0.0.1:4002") }));
  const logger = createLogger({ service: "problem-service", level: config.LOG_LEVEL });

  const store = await createStore(storeConfigFromEnv(config), { logger: logger.child({ component: "store" }) });
  // With REDIS_URL, changes are announced to submission-service's problem caches; without it
  // (problem-service on its own) those caches fall back to their TTL.
  let changes: RedisProblemChangePublisher | undefined;
  if (config.REDIS_URL) {
    changes = await connectProblemChangePublisher({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger });
  } else {
    logger.warn("REDIS_URL unset: problem changes are not announced; submission-service caches expire after PROBLEM_CACHE_TTL_MS");
  }
  const app = buildProblemApp({
    problems: store.problems,
    ...(changes ? { changes } : {}),
    jwtSecret: config.JWT_SECRET,
    rejudge: createRejudgeClient({ baseUrl: config.SUBMISSION_SERVICE_URL, jwtSecret: config.JWT_SECRET }),
    logger,
    health: async () => {
      try {
        await store.ping();
        return { database: "ok" };
      } catch {
        // The reason goes to the log, not to the unauthenticated probe.
        logger.warn("health: database ping failed");
        return { database: "unreachable" };
      }
    },
  });

  const server = createServer(app);
  let port: number;
  try {
    ({ port } = await listenHttp(server, config.PROBLEM_SERVICE_PORT, config.HOST));
  } catch (error) {
    // e.g. EADDRINUSE: say so once, release the database, and exit non-zero.
    logger.fatal({ err: error, host: config.HOST, port: config.PROBLEM_SERVICE_PORT }, "problem-service could not listen");
    await store.close().catch(() => undefined);
    process.exit(1);
  }
  logger.info({ host: config.HOST, port, store: store.kind }, "problem-service listening");

  onShutdownSignals({
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    // Reverse start order: stop accepting and finish in-flight requests, then the database.
    stop: async () => {
      await closeHttpServer(server);
      await changes?.close();
      await store.close();
    },
  });
});
