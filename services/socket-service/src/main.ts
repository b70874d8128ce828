// Distributed-mode entry point: the only place that reads the environment, listens and wires signals.
import { z } from "zod";
import { baseEnvSchema, distributedRedisEnvSchema, loadConfig, portsEnvSchema } from "@sonocode/config";
import { listenHttp, onShutdownSignals, runMain } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import { createSocketService } from "./service.js";

const envSchema = baseEnvSchema.extend(portsEnvSchema.shape).extend(distributedRedisEnvSchema.shape).extend({
  /** Comma-separated browser origins allowed to connect; unset = same origin only. */
  SOCKET_CORS_ORIGIN: z.string().trim().optional(),
});

runMain(async () => {
  const config = loadConfig(envSchema);
  const logger = createLogger({ service: "socket-service", level: config.LOG_LEVEL });
  const corsOrigin = config.SOCKET_CORS_ORIGIN ? config.SOCKET_CORS_ORIGIN.split(",").map((origin) => origin.trim()).filter(Boolean) : undefined;

  const service = await createSocketService({
    redisUrl: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    jwtSecret: config.JWT_SECRET,
    logger,
    ...(corsOrigin ? { corsOrigin } : {}),
  });
  const { port } = await listenHttp(service.httpServer, config.SOCKET_SERVICE_PORT, config.HOST);
  logger.info({ host: config.HOST, port }, "socket-service listening");

  // service.close() stops socket.io and its http server, then the adapter's Redis.
  onShutdownSignals({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, stop: () => service.close() });
});
