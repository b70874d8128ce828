import { mkdtemp } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { createJudge, type Judge } from "@sonocode/judge";
import { closeInReverse, listenHttp, type Closer } from "@sonocode/lifecycle";
import type { Logger } from "@sonocode/logger";
import { createStore, type Store, type StoreConfig } from "@sonocode/store";
import { buildProblemApp } from "@sonocode/problem-service";
import {
  buildSubmissionApp,
  createProblemClient,
  createResultConsumer,
  createSubmissionQueue,
  createSubmissionReconciler,
  type SubmissionLimits,
} from "@sonocode/submission-service";
import { join } from "node:path";
import { createEvaluatorService, createTestSetCache, createTestSetClient, createTestSetProvider } from "@sonocode/evaluator-service";
import { createSocketService } from "@sonocode/socket-service";
import { startLocalRedis, type LocalRedis } from "./redis.process.js";
import { seedProblems } from "./seed.js";

export interface PlatformOptions {
  host: string;
  /** 0 picks a free port (tests). */
  ports: { problem: number; submission: number; socket: number; evaluator: number };
  jwtSecret: string;
  /** External Redis; when absent a local redis-server child is started under dataDir. */
  redisUrl?: string | undefined;
  prefix: string;
  store: StoreConfig;
  dataDir: string;
  sandbox: { engine: "bwrap" | "docker" | "auto"; rootfs?: string | undefined; dockerImage?: string | undefined };
  evaluatorConcurrency: number;
  /** Evaluator's test-set cache (default dataDir/test-sets, or a temp dir when dataDir is ":memory:"). */
  testSetCache?: { dir?: string | undefined; maxBytes?: number | undefined } | undefined;
  resultConcurrency?: number | undefined;
  /** Submission reconciler timing (defaults: RECONCILER_DEFAULTS of submission-service). */
  reconcile?: { periodMs?: number | undefined; graceMs?: number | undefined; maxRedrives?: number | undefined } | undefined;
  /** Per-user submission caps (defaults: SUBMISSION_LIMIT_DEFAULTS). */
  limits?: Partial<SubmissionLimits> | undefined;
  maxCodeBytes: number;
  seed: boolean;
  /** One root logger per service, so every log line carries exactly one `service`. */
  loggerFor: (service: "platform" | "problem-service" | "submission-service" | "socket-service" | "evaluator-service") => Logger;
}

export interface Platform {
  urls: { problem: string; submission: string; socket: string; evaluator: string };
  redisUrl: string;
  store: Store;
  judge: Judge;
  close(): Promise<void>;
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  const { port: bound } = await listenHttp(server, port, host);
  return `http://${host}:${bound}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const DEFAULT_TEST_SET_CACHE_BYTES = 1024 * 1024 * 1024;

async function testSetCacheDir(options: PlatformOptions): Promise<string> {
  if (options.testSetCache?.dir) return options.testSetCache.dir;
  if (options.dataDir !== ":memory:") return join(options.dataDir, "test-sets");
  return mkdtemp(join(tmpdir(), "sonocode-test-sets-"));
}

/**
 * Embedded mode: the four services' factories wired in one process, the same
 * factories each service's own main.ts uses in distributed mode. Everything
 * started is stopped by close(), in reverse order.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { host, loggerFor } = options;
  const logger = loggerFor("platform");
  const closers: Closer[] = [];
  const close = () => closeInReverse(closers, logger);

  try {
    let localRedis: LocalRedis | undefined;
    if (!options.redisUrl) {
      localRedis = await startLocalRedis({ dataDir: options.dataDir, logger: logger.child({ component: "redis" }) });
      closers.push({ name: "redis", close: () => localRedis!.stop() });
    }
    const redisUrl = options.redisUrl ?? localRedis!.url;

    const store = await createStore(options.store);
    closers.push({ name: "store", close: () => store.close() });
    if (options.seed) await seedProblems(store, logger);

    const problemApp = buildProblemApp({
      problems: store.problems,
      jwtSecret: options.jwtSecret,
      logger: loggerFor("problem-service"),
      health: async () => (await store.ping(), { database: "ok" }),
    });
    const problemServer = createServer(problemApp);
    const problemUrl = await listen(problemServer, options.ports.problem, host);
    closers.push({ name: "problem-service", close: () => closeServer(problemServer) });

    const judge = await createJudge({
      engine: options.sandbox.engine,
      rootfs: options.sandbox.rootfs,
      dockerImage: options.sandbox.dockerImage,
      logger: loggerFor("evaluator-service").child({ component: "judge" }),
    });
    closers.push({ name: "judge", close: () => judge.close() });

    const evaluator = createEvaluatorService({
      redisUrl,
      prefix: options.prefix,
      judge,
      logger: loggerFor("evaluator-service"),
      concurrency: options.evaluatorConcurrency,
      testSets: createTestSetProvider({
        cache: createTestSetCache({ dir: await testSetCacheDir(options), maxBytes: options.testSetCache?.maxBytes ?? DEFAULT_TEST_SET_CACHE_BYTES }),
        client: createTestSetClient({ baseUrl: problemUrl, jwtSecret: options.jwtSecret }),
      }),
    });
    closers.push({ name: "evaluator-service", close: () => evaluator.close() });
    const evaluatorUrl = await listen(evaluator.httpServer, options.ports.evaluator, host);

    const socket = await createSocketService({
      redisUrl,
      prefix: options.prefix,
      jwtSecret: options.jwtSecret,
      logger: loggerFor("socket-service"),
    });
    closers.push({ name: "socket-service", close: () => socket.close() });
    const socketUrl = await listen(socket.httpServer, options.ports.socket, host);

    const submissionLogger = loggerFor("submission-service");
    const queue = createSubmissionQueue({ redisUrl, prefix: options.prefix });
    closers.push({ name: "submission-queue", close: () => queue.close() });
    const consumer = createResultConsumer({
      store,
      redisUrl,
      prefix: options.prefix,
      logger: submissionLogger,
      concurrency: options.resultConcurrency,
    });
    closers.push({ name: "result-consumer", close: () => consumer.close() });
    const problemClient = createProblemClient({ baseUrl: problemUrl, jwtSecret: options.jwtSecret });
    const reconciler = createSubmissionReconciler({
      store,
      problems: problemClient,
      submissionQueue: queue.queue,
      redisUrl,
      prefix: options.prefix,
      logger: submissionLogger,
      ...(options.reconcile?.periodMs === undefined ? {} : { periodMs: options.reconcile.periodMs }),
      ...(options.reconcile?.graceMs === undefined ? {} : { graceMs: options.reconcile.graceMs }),
      ...(options.reconcile?.maxRedrives === undefined ? {} : { maxRedrives: options.reconcile.maxRedrives }),
    });
    closers.push({ name: "reconciler", close: () => reconciler.close() });
    const submissionApp = await buildSubmissionApp({
      store,
      problems: problemClient,
      submissionQueue: queue.queue,
      jwtSecret: options.jwtSecret,
      logger: submissionLogger,
      maxCodeBytes: options.maxCodeBytes,
      ...(options.limits ? { limits: options.limits } : {}),
    });
    closers.push({ name: "submission-service", close: () => submissionApp.close() });
    const submissionUrl = await submissionApp.listen({ port: options.ports.submission, host });

    return {
      urls: { problem: problemUrl, submission: submissionUrl, socket: socketUrl, evaluator: evaluatorUrl },
      redisUrl,
      store,
      judge,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
