// Distributed-mode entry point: the only place that reads the environment, listens and wires signals.
import { z } from "zod";
import { assertProductionSafe, baseEnvSchema, ConfigError, loadConfig, portsEnvSchema } from "@sonocode/config";
import { createLogger } from "@sonocode/logger";
import { createSocketService } from "./service.js";

const envSchema = baseEnvSchema.extend(portsEnvSchema.shape).extend({
  /** Comma-separated browser origins allowed to connect; unset = same origin only. */
  SOCKET_CORS_ORIGIN: z.string().trim().optional(),
});

async function main(): Promise<void> {
  const config = loadConfig(envSchema);
  assertProductionSafe(config);
  if (!config.REDIS_URL) {
    throw new ConfigError("invalid configuration:\n  REDIS_URL: required for socket-service (instances share rooms through the Redis adapter)");
  }
  const logger = createLogger({ service: "socket-service", level: config.LOG_LEVEL });
  const corsOrigin = config.SOCKET_CORS_ORIGIN ? config.SOCKET_CORS_ORIGIN.split(",").map((origin) => origin.trim()).filter(Boolean) : undefined;

  const service = await createSocketService({
    redisUrl: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    jwtSecret: config.JWT_SECRET,
    logger,
    ...(corsOrigin ? { corsOrigin } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    service.httpServer.once("error", reject);
    service.httpServer.listen(config.SOCKET_SERVICE_PORT, config.HOST, () => resolve());
  });
  logger.info({ host: config.HOST, port: config.SOCKET_SERVICE_PORT }, "socket-service listening");

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, "shutdown timed out; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    service.close().then(
      () => {
        logger.info("socket-service stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  // Config errors are for humans: print the message, not a stack.
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
