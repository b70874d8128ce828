// The POST path alone, for ingest.bench.ts --mode api: problem-service and submission-service
// (app, results consumer, reconciler, problem cache when this checkout has one) in one process on
// PGlite or PostgreSQL and the given Redis, no evaluator. Reports its port on stdout as JSON.
import { createServer } from "node:http";
import { createLogger, silentLogger } from "@sonocode/logger";
import { buildProblemApp } from "@sonocode/problem-service";
import * as problemService from "@sonocode/problem-service";
import { createStore } from "@sonocode/store";
import * as submissionService from "@sonocode/submission-service";
import { listenHttp } from "@sonocode/lifecycle";

const { REDIS_URL: redisUrl, DATABASE_URL: databaseUrl, JWT_SECRET: jwtSecret, REDIS_PREFIX: prefix = "ingest-bench", LOG_LEVEL: logLevel } = process.env;
if (!redisUrl || !jwtSecret) throw new Error("REDIS_URL and JWT_SECRET are required");
// Logs as main.ts writes them (JSON lines on stdout, which the bench drains): they are part of what a POST costs.
const logger = logLevel && logLevel !== "silent" ? createLogger({ service: "submission-service", level: logLevel, pretty: false }) : silentLogger();

const store = await createStore(databaseUrl ? { kind: "postgres", url: databaseUrl } : { kind: "pglite", dataDir: null });
// Feature-detected, so the same script measures a checkout from before the cache existed.
const publisher = "connectProblemChangePublisher" in problemService ? await problemService.connectProblemChangePublisher({ redisUrl, prefix, logger }) : undefined;
const problemServer = createServer(buildProblemApp({ problems: store.problems, jwtSecret, logger, ...(publisher ? { changes: publisher } : {}) }));
const { port: problemPort } = await listenHttp(problemServer, 0, "127.0.0.1");
const direct = submissionService.createProblemClient({ baseUrl: `http://127.0.0.1:${problemPort}`, jwtSecret });
const problems = "createProblemCache" in submissionService ? submissionService.createProblemCache({ source: direct, redisUrl, prefix, logger }) : direct;
const queue = submissionService.createSubmissionQueue({ redisUrl, prefix });
const consumer = submissionService.createResultConsumer({ store, redisUrl, prefix, logger });
const app = await submissionService.buildSubmissionApp({
  store,
  problems,
  submissionQueue: queue.queue,
  jwtSecret,
  logger,
  limits: { perMinute: 100_000, maxInFlight: 10_000 },
});
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ problem: `http://127.0.0.1:${problemPort}`, submission: address })}\n`);
process.on("SIGTERM", () => {
  void (async () => {
    await app.close();
    await consumer.close();
    await queue.close();
    problemServer.close();
    await store.close();
    process.exit(0);
  })();
});
