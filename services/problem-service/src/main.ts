// Process entry point: the only file of the service that reads the environment,
// listens, and handles signals. Everything else is built by buildProblemApp.
import type { Server } from "node:http";
import { assertProductionSafe, baseEnvSchema, loadConfig, portsEnvSchema, storeEnvSchema } from "@sonocode/config";
import { createLogger } from "@sonocode/logger";
import { createStore, storeConfigFromEnv } from "@sonocode/store";
import { buildProblemApp } from "./app.js";

const config = loadConfig(baseEnvSchema.merge(storeEnvSchema).merge(portsEnvSchema));
assertProductionSafe(config);
const logger = createLogger({ service: "problem-service", level: config.LOG_LEVEL });

const store = await createStore(storeConfigFromEnv(config));
const app = buildProblemApp({
  problems: store.problems,
  jwtSecret: config.JWT_SECRET,
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

let server: Server;
try {
  server = await new Promise((resolve, reject) => {
    const listening = app.listen(config.PROBLEM_SERVICE_PORT, config.HOST, (error?: Error) => {
      if (error) reject(error);
      else resolve(listening);
    });
  });
} catch (error) {
  // e.g. EADDRINUSE: say so once, release the database, and exit non-zero.
  logger.fatal({ err: error, host: config.HOST, port: config.PROBLEM_SERVICE_PORT }, "problem-service could not listen");
  await store.close().catch(() => undefined);
  process.exit(1);
}
logger.info({ host: config.HOST, port: config.PROBLEM_SERVICE_PORT, store: store.kind }, "problem-service listening");

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, "shutting down");
  // If draining hangs (a stuck client, a stuck database), exit anyway: the orchestrator restarts us.
  const timer = setTimeout(() => {
    logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, "shutdown timed out; exiting");
    process.exit(1);
  }, config.SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  try {
    // Reverse start order: stop accepting and finish in-flight requests, then the database.
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
    });
    await store.close();
    logger.info("shutdown complete");
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    process.exit(1);
  }
}
process.once("SIGINT", () => void shutdown("SIGINT"));
process.once("SIGTERM", () => void shutdown("SIGTERM"));
