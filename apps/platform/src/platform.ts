import { mkdtemp } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { DEFAULT_SANDBOX_NICE } from "@sonocode/config";
import { closeInReverse, listenHttp, type Closer } from "@sonocode/lifecycle";
import type { Logger } from "@sonocode/logger";
import { createStore, type Store, type StoreConfig } from "@sonocode/store";
import { buildProblemApp, connectProblemChangePublisher, createRejudgeClient, type RejudgeClient } from "@sonocode/problem-service";
import {
  buildSubmissionApp,
  createProblemCache,
  createProblemClient,
  createResultConsumer,
  createSubmissionQueue,
  createSubmissionReconciler,
  createRejudgeFeeder,
  type SubmissionLimits,
} from "@sonocode/submission-service";
import { join } from "node:path";
import { createSocketService } from "@sonocode/socket-service";
import { createWebServer } from "@sonocode/web";
import { startEvaluatorProcess, type EvaluatorProcess, type RestartPolicy } from "./evaluator/evaluator.supervisor.js";
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
  /** `nice`: SANDBOX_NICE, the bwrap sandboxes' CPU priority (default DEFAULT_SANDBOX_NICE). */
  sandbox: { engine: "bwrap" | "docker" | "auto"; rootfs?: string | undefined; dockerImage?: string | undefined; nice?: number | undefined };
  evaluatorConcurrency: number;
  /** The evaluator child's reliability knobs (EVALUATOR_* variables; unset: the evaluator's defaults). */
  sandboxRetry?: { attempts?: number | undefined; backoffMs?: number | undefined } | undefined;
  engineHealth?: { failureThreshold?: number | undefined; selfTestIntervalMs?: number | undefined } | undefined;
  /** How long the evaluator child may finish its running jobs on shutdown (default 8 s). */
  evaluatorDrainMs?: number | undefined;
  /** Restart back-off of a crashed evaluator child (default DEFAULT_RESTART_POLICY), and how long a silent one lives (default 30 s). */
  evaluatorSupervision?: { restart?: Partial<RestartPolicy> | undefined; hangTimeoutMs?: number | undefined } | undefined;
  /** The evaluator child's log level (its logs go to the launcher's stdout, tagged service evaluator-service). */
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Evaluator's test-set cache (default dataDir/test-sets, or a temp dir when dataDir is ":memory:"). */
  testSetCache?: { dir?: string | undefined; maxBytes?: number | undefined } | undefined;
  resultConcurrency?: number | undefined;
  /** Submission reconciler timing (defaults: RECONCILER_DEFAULTS of submission-service). */
  reconcile?: { periodMs?: number | undefined; graceMs?: number | undefined; maxRedrives?: number | undefined } | undefined;
  /** The rejudge feeder (REJUDGE_MAX_ATTEMPTS; default: REJUDGE_FEEDER_DEFAULTS of submission-service). */
  rejudge?: { maxAttempts?: number | undefined } | undefined;
  /** submission-service's problem cache (defaults: PROBLEM_CACHE_DEFAULTS). */
  problemCache?: { ttlMs?: number; maxEntries?: number } | undefined;
  /** Per-user submission caps (defaults: SUBMISSION_LIMIT_DEFAULTS). */
  limits?: Partial<SubmissionLimits> | undefined;
  maxCodeBytes: number;
  seed: boolean;
  /**
   * The web playground's one-origin server (the built app + a proxy to the three services);
   * absent: not started. devSignIn lets it mint dev tokens with jwtSecret (never in production).
   */
  web?: { port: number; distDir: string; devSignIn: boolean } | undefined;
  /** One root logger per service, so every log line carries exactly one `service`. */
  loggerFor: (service: "platform" | "problem-service" | "submission-service" | "socket-service" | "web") => Logger;
}

export interface Platform {
  urls: { problem: string; submission: string; socket: string; evaluator: string; web?: string };
  redisUrl: string;
  store: Store;
  /** The evaluator child process (its own event loop), restarted by the launcher if it dies. */
  evaluator: EvaluatorProcess;
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
const DEFAULT_EVALUATOR_DRAIN_MS = 8_000;


async function testSetCacheDir(options: PlatformOptions): Promise<string> {
  if (options.testSetCache?.dir) return options.testSetCache.dir;
  if (options.dataDir !== ":memory:") return join(options.dataDir, "test-sets");
  return mkdtemp(join(tmpdir(), "sonocode-test-sets-"));
}

/**
 * Embedded mode: problem-, submission- and socket-service's factories wired in this process,
 * and evaluator-service's in a supervised child process (evaluator/), the same factories each
 * service's own main.ts uses in distributed mode. Everything started is stopped by close(),
 * in reverse order.
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

    const store = await createStore(options.store, { logger: logger.child({ component: "store" }) });
    closers.push({ name: "store", close: () => store.close() });
    if (options.seed) await seedProblems(store, logger);

    // Problem edits are announced on Redis so submission-service's problem cache drops them.
    const problemChanges = await connectProblemChangePublisher({ redisUrl, prefix: options.prefix, logger: loggerFor("problem-service") });
    closers.push({ name: "problem-changes", close: () => problemChanges.close() });
    // Rejudges go to submission-service over its internal route, as in distributed mode; its URL is known once it listens.
    let rejudgeClient: RejudgeClient | undefined;
    const problemApp = buildProblemApp({
      problems: store.problems,
      changes: problemChanges,
      rejudge: {
        rejudge: (problemId, requestedBy) => {
          if (!rejudgeClient) throw new Error("submission-service is not listening yet");
          return rejudgeClient.rejudge(problemId, requestedBy);
        },
        find: (rejudgeId) => {
          if (!rejudgeClient) throw new Error("submission-service is not listening yet");
          return rejudgeClient.find(rejudgeId);
        },
      },
      jwtSecret: options.jwtSecret,
      logger: loggerFor("problem-service"),
      health: async () => (await store.ping(), { database: "ok" }),
    });
    const problemServer = createServer(problemApp);
    const problemUrl = await listen(problemServer, options.ports.problem, host);
    closers.push({ name: "problem-service", close: () => closeServer(problemServer) });

    // Judging runs in a child process: its CPU-heavy work (output collection, checkers' hand-offs,
    // progress, BullMQ lock renewals) never delays an API request, and a crash or a wedged sandbox
    // costs a restart of that process, not the platform.
    const evaluator = await startEvaluatorProcess({
      logger,
      config: {
        host,
        port: options.ports.evaluator,
        redisUrl,
        prefix: options.prefix,
        jwtSecret: options.jwtSecret,
        problemServiceUrl: problemUrl,
        sandbox: {
          engine: options.sandbox.engine,
          ...(options.sandbox.rootfs ? { rootfs: options.sandbox.rootfs } : {}),
          ...(options.sandbox.dockerImage ? { dockerImage: options.sandbox.dockerImage } : {}),
          nice: options.sandbox.nice ?? DEFAULT_SANDBOX_NICE,
        },
        concurrency: options.evaluatorConcurrency,
        testSetCache: { dir: await testSetCacheDir(options), maxBytes: options.testSetCache?.maxBytes ?? DEFAULT_TEST_SET_CACHE_BYTES },
        ...(options.sandboxRetry ? { sandboxRetry: options.sandboxRetry } : {}),
        ...(options.engineHealth ? { engineHealth: options.engineHealth } : {}),
        logLevel: options.logLevel,
        drainTimeoutMs: options.evaluatorDrainMs ?? DEFAULT_EVALUATOR_DRAIN_MS,
      },
      ...(options.evaluatorSupervision?.restart ? { restart: options.evaluatorSupervision.restart } : {}),
      ...(options.evaluatorSupervision?.hangTimeoutMs === undefined ? {} : { hangTimeoutMs: options.evaluatorSupervision.hangTimeoutMs }),
    });
    closers.push({ name: "evaluator-service", close: () => evaluator.close() });

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
    // What the reconciler and the rejudge feeder both work with: the submissions, their problems and the queue.
    const pipeline = { store, problems: problemClient, submissionQueue: queue.queue, redisUrl, prefix: options.prefix, logger: submissionLogger };
    const reconciler = createSubmissionReconciler({
      ...pipeline,
      ...(options.reconcile?.periodMs === undefined ? {} : { periodMs: options.reconcile.periodMs }),
      ...(options.reconcile?.graceMs === undefined ? {} : { graceMs: options.reconcile.graceMs }),
      ...(options.reconcile?.maxRedrives === undefined ? {} : { maxRedrives: options.reconcile.maxRedrives }),
    });
    closers.push({ name: "reconciler", close: () => reconciler.close() });
    const rejudgeFeeder = createRejudgeFeeder({
      ...pipeline,
      ...(options.rejudge?.maxAttempts === undefined ? {} : { maxAttempts: options.rejudge.maxAttempts }),
    });
    closers.push({ name: "rejudge-feeder", close: () => rejudgeFeeder.close() });
    // POSTs read problems from a cache that problem-service's announcements invalidate.
    const problemCache = createProblemCache({ source: problemClient, redisUrl, prefix: options.prefix, logger: submissionLogger, ...options.problemCache });
    closers.push({ name: "problem-cache", close: () => problemCache.close() });
    const submissionApp = await buildSubmissionApp({
      store,
      problems: problemCache,
      submissionQueue: queue.queue,
      jwtSecret: options.jwtSecret,
      logger: submissionLogger,
      maxCodeBytes: options.maxCodeBytes,
      ...(options.limits ? { limits: options.limits } : {}),
      rejudgeFeeder,
    });
    closers.push({ name: "submission-service", close: () => submissionApp.close() });
    const submissionUrl = await submissionApp.listen({ port: options.ports.submission, host });
    rejudgeClient = createRejudgeClient({ baseUrl: submissionUrl, jwtSecret: options.jwtSecret });

    let webUrl: string | undefined;
    if (options.web) {
      const web = createWebServer(
        {
          upstreams: { problem: problemUrl, submission: submissionUrl, socket: socketUrl },
          distDir: options.web.distDir,
          devSignIn: options.web.devSignIn ? { jwtSecret: options.jwtSecret } : undefined,
        },
        loggerFor("web"),
      );
      webUrl = await listen(web.server, options.web.port, host);
      closers.push({ name: "web", close: () => web.close() });
    }

    return {
      urls: { problem: problemUrl, submission: submissionUrl, socket: socketUrl, evaluator: evaluator.url, ...(webUrl ? { web: webUrl } : {}) },
      redisUrl,
      store,
      evaluator,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
