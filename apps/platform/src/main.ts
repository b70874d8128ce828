// Embedded mode: the whole platform from one command (npm start): the API services in this
// process, the evaluator in a child process it supervises.
import { loadConfig } from "@sonocode/config";
import { signToken } from "@sonocode/auth";
import { onShutdownSignals, runMain } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import { storeConfigFromEnv } from "@sonocode/store";
import { ensureClientBuilt, webPortEnvSchema } from "@sonocode/web";
import { platformEnvSchema } from "./config.js";
import { resolveJwtSecret } from "./dev-secret.js";
import { startPlatform } from "./platform.js";

runMain(async () => {
  const config = loadConfig(platformEnvSchema);
  const logger = createLogger({ service: "platform", level: config.LOG_LEVEL });
  // No public default: JWT_SECRET, else a random secret kept (0600) under DATA_DIR and reused on restart.
  const { secret: jwtSecret, source: secretSource, path: secretPath } = await resolveJwtSecret({ jwtSecret: config.JWT_SECRET, dataDir: config.DATA_DIR });
  if (secretSource !== "env") logger.info({ secretSource, secretPath }, "JWT_SECRET unset: using the launcher's own secret");
  // The web playground's bundle: built once per change of its sources (a few seconds), then reused.
  const { WEB_PORT } = loadConfig(webPortEnvSchema);
  const webBuild = await ensureClientBuilt();
  if (webBuild.built) logger.info({ distDir: webBuild.distDir, ms: webBuild.ms }, "web app built");

  const platform = await startPlatform({
    host: config.HOST,
    ports: {
      problem: config.PROBLEM_SERVICE_PORT,
      submission: config.SUBMISSION_SERVICE_PORT,
      socket: config.SOCKET_SERVICE_PORT,
      evaluator: config.EVALUATOR_PORT,
    },
    jwtSecret,
    redisUrl: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    store: storeConfigFromEnv(config),
    dataDir: config.DATA_DIR,
    sandbox: { engine: config.SANDBOX_ENGINE, rootfs: config.SANDBOX_ROOTFS, dockerImage: config.SANDBOX_DOCKER_IMAGE, nice: config.SANDBOX_NICE },
    evaluatorConcurrency: config.EVALUATOR_CONCURRENCY,
    sandboxRetry: { attempts: config.EVALUATOR_SANDBOX_ATTEMPTS, backoffMs: config.EVALUATOR_SANDBOX_BACKOFF_MS },
    engineHealth: { failureThreshold: config.EVALUATOR_ENGINE_FAILURE_THRESHOLD, selfTestIntervalMs: config.EVALUATOR_SELF_TEST_INTERVAL_MS },
    // The child drains within the platform's own deadline, leaving time for the rest to close.
    evaluatorDrainMs: Math.max(1_000, config.SHUTDOWN_TIMEOUT_MS - 2_000),
    logLevel: config.LOG_LEVEL,
    testSetCache: { dir: config.TEST_SET_CACHE_DIR, maxBytes: config.TEST_SET_CACHE_MAX_MB * 1024 * 1024 },
    resultConcurrency: config.RESULT_CONCURRENCY,
    reconcile: { periodMs: config.RECONCILE_PERIOD_MS, graceMs: config.RECONCILE_GRACE_MS, maxRedrives: config.RECONCILE_MAX_ATTEMPTS },
    rejudge: { maxAttempts: config.REJUDGE_MAX_ATTEMPTS },
    limits: { perMinute: config.SUBMISSION_RATE_LIMIT_PER_MINUTE, maxInFlight: config.SUBMISSION_MAX_IN_FLIGHT },
    problemCache: { ttlMs: config.PROBLEM_CACHE_TTL_MS, maxEntries: config.PROBLEM_CACHE_MAX_ENTRIES },
    maxCodeBytes: config.MAX_CODE_BYTES,
    seed: config.SEED,
    web: { port: WEB_PORT, distDir: webBuild.distDir, devSignIn: config.NODE_ENV !== "production" },
    loggerFor: (service) => (service === "platform" ? logger : createLogger({ service, level: config.LOG_LEVEL })),
  });

  const { evaluator } = platform;
  logger.info(
    { urls: platform.urls, store: platform.store.kind, sandbox: evaluator.engine, evaluatorPid: evaluator.pid, sandboxProblem: evaluator.sandboxProblem },
    "SonoCode is up",
  );
  if (config.NODE_ENV !== "production") {
    const [admin, user] = await Promise.all([
      signToken({ sub: "admin", role: "admin" }, jwtSecret),
      signToken({ sub: "dev-user", role: "user" }, jwtSecret),
    ]);
    process.stdout.write(
      [
        "",
        "SonoCode embedded platform",
        `  web app     ${platform.urls.web}   (open this; "sign in as" is development only)`,
        `  problems    ${platform.urls.problem}/api/v1/problems   (OpenAPI: /openapi.json)`,
        `  submissions ${platform.urls.submission}/api/v1/submissions   (docs: /docs)`,
        `  socket.io   ${platform.urls.socket}`,
        `  evaluator   ${platform.urls.evaluator}/health   /metrics   (own process, pid ${evaluator.pid}, ${config.EVALUATOR_CONCURRENCY} slot${config.EVALUATOR_CONCURRENCY === 1 ? "" : "s"})`,
        `  store ${platform.store.kind}, sandbox ${evaluator.engine}${evaluator.sandboxProblem ? ` (NOT WORKING: ${evaluator.sandboxProblem})` : ""}`,
        "",
        secretSource === "ephemeral"
          ? "Dev tokens (12 h; DATA_DIR=:memory: so the secret dies with this process):"
          : "Dev tokens (12 h; mint more with: npm run token -- --sub <id> --role user|admin):",
        `  admin     ${admin}`,
        `  dev-user  ${user}`,
        "",
      ].join("\n"),
    );
  }

  onShutdownSignals({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, stop: () => platform.close() });
});
