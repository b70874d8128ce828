// Distributed-mode entry point: the only place that reads the environment, listens and wires signals.
import { baseEnvSchema, distributedRedisEnvSchema, evaluatorEnvSchema, loadConfig, portsEnvSchema, sandboxEnvSchema, testSetEnvSchema } from "@sonocode/config";
import { createJudge } from "@sonocode/judge";
import { listenHttp, onShutdownSignals, runMain } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import { createDeferredJudge } from "./deferred-judge.js";
import { createEvaluatorService } from "./service.js";
import { createTestSetCache } from "./testsets/test-set.cache.js";
import { createTestSetClient } from "./testsets/test-set.client.js";
import { createTestSetProvider } from "./testsets/test-set.provider.js";

const envSchema = baseEnvSchema
  .extend(portsEnvSchema.shape)
  .extend(sandboxEnvSchema.shape)
  .extend(evaluatorEnvSchema.shape)
  .extend(testSetEnvSchema.shape)
  .extend(distributedRedisEnvSchema.shape);

runMain(async () => {
  const config = loadConfig(envSchema);
  const logger = createLogger({ service: "evaluator-service", level: config.LOG_LEVEL });

  // Deferred: a sandbox that cannot start yet (rootfs missing, dockerd down) leaves this process
  // up, out of rotation and saying why on /health, until a periodic self-test succeeds.
  const judge = createDeferredJudge(async () => {
    const created = await createJudge({
      engine: config.SANDBOX_ENGINE,
      ...(config.SANDBOX_ROOTFS ? { rootfs: config.SANDBOX_ROOTFS } : {}),
      ...(config.SANDBOX_DOCKER_IMAGE ? { dockerImage: config.SANDBOX_DOCKER_IMAGE } : {}),
      // One judge slot (and pinned CPU) per submission the worker takes at once.
      maxConcurrency: config.EVALUATOR_CONCURRENCY,
      // Judged programs yield the CPU to the API on this host; this process keeps its priority.
      sandboxNice: config.SANDBOX_NICE,
      // Each free slot's next sandbox is opened ahead: a submission starts on a ready one.
      warmSessions: true,
      logger: logger.child({ component: "judge" }),
    });
    logger.info({ engine: created.engine }, "judge ready");
    return created;
  }, config.SANDBOX_ENGINE);

  const service = createEvaluatorService({
    redisUrl: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    judge,
    logger,
    concurrency: config.EVALUATOR_CONCURRENCY,
    sandboxRetry: { attempts: config.EVALUATOR_SANDBOX_ATTEMPTS, backoffMs: config.EVALUATOR_SANDBOX_BACKOFF_MS },
    engineHealth: { failureThreshold: config.EVALUATOR_ENGINE_FAILURE_THRESHOLD, selfTestIntervalMs: config.EVALUATOR_SELF_TEST_INTERVAL_MS },
    testSets: createTestSetProvider({
      cache: createTestSetCache({ dir: config.TEST_SET_CACHE_DIR ?? "./.data/test-sets", maxBytes: config.TEST_SET_CACHE_MAX_MB * 1024 * 1024 }),
      client: createTestSetClient({ baseUrl: config.PROBLEM_SERVICE_URL, jwtSecret: config.JWT_SECRET }),
    }),
  });
  if (config.EVALUATOR_SANDBOX_ATTEMPTS <= config.EVALUATOR_ENGINE_FAILURE_THRESHOLD) {
    logger.warn("EVALUATOR_SANDBOX_ATTEMPTS should exceed EVALUATOR_ENGINE_FAILURE_THRESHOLD, or one broken evaluator can use up a job's retries alone");
  }
  const { port } = await listenHttp(service.httpServer, config.EVALUATOR_PORT, config.HOST);
  logger.info({ host: config.HOST, port, concurrency: config.EVALUATOR_CONCURRENCY }, "evaluator-service listening");

  onShutdownSignals({
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    // A job cut off by the timeout is not lost: its lock expires and another evaluator re-runs it.
    stop: async () => {
      await service.close(); // http server, worker (drains the running job), queue, Redis
      await judge.close(); // started first, stopped last
    },
  });
});
