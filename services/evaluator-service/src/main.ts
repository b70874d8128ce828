// Distributed-mode entry point: the only place that reads the environment, listens and wires signals.
import { z } from "zod";
import { assertProductionSafe, baseEnvSchema, ConfigError, loadConfig, portsEnvSchema } from "@sonocode/config";
import { createJudge } from "@sonocode/judge";
import { listenHttp, onShutdownSignals, runMain } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import { createEvaluatorService } from "./service.js";

const envSchema = baseEnvSchema.extend(portsEnvSchema.shape).extend({
  /** auto: bwrap when it works on this host, else docker. */
  SANDBOX_ENGINE: z.enum(["bwrap", "docker", "auto"]).default("auto"),
  /** Runtime root filesystem for bwrap (defaults to the judge's own default). */
  SANDBOX_ROOTFS: z.string().trim().min(1).optional(),
  /** Image for the docker engine (defaults to the judge's own default). */
  SANDBOX_DOCKER_IMAGE: z.string().trim().min(1).optional(),
  /** Submissions judged at once by this process; more throughput = more evaluator processes. */
  EVALUATOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
});

runMain(async () => {
  const config = loadConfig(envSchema);
  assertProductionSafe(config);
  if (!config.REDIS_URL) {
    throw new ConfigError("invalid configuration:\n  REDIS_URL: required for evaluator-service (it consumes SubmissionQueue from Redis)");
  }
  const logger = createLogger({ service: "evaluator-service", level: config.LOG_LEVEL });

  const judge = await createJudge({
    engine: config.SANDBOX_ENGINE,
    ...(config.SANDBOX_ROOTFS ? { rootfs: config.SANDBOX_ROOTFS } : {}),
    ...(config.SANDBOX_DOCKER_IMAGE ? { dockerImage: config.SANDBOX_DOCKER_IMAGE } : {}),
    logger: logger.child({ component: "judge" }),
  });
  logger.info({ engine: judge.engine }, "judge ready");

  const service = createEvaluatorService({
    redisUrl: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    judge,
    logger,
    concurrency: config.EVALUATOR_CONCURRENCY,
  });
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
