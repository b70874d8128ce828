import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createJudge, type Judge } from "@sonocode/judge";
import type { Logger } from "@sonocode/logger";
import { createStore, type Store, type StoreConfig } from "@sonocode/store";
import { buildProblemApp } from "@sonocode/problem-service";
import {
  buildSubmissionApp,
  createProblemClient,
  createResultConsumer,
  createSubmissionQueue,
} from "@sonocode/submission-service";
import { createEvaluatorService } from "@sonocode/evaluator-service";
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

function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      resolve(`http://${host}:${address.port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Embedded mode: the four services' factories wired in one process, the same
 * factories each service's own main.ts uses in distributed mode. Everything
 * started is stopped by close(), in reverse order.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { host, loggerFor } = options;
  const logger = loggerFor("platform");
  const stops: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  const close = async () => {
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.error({ err, component: name }, "error while stopping");
      }
    }
    stops.length = 0;
  };

  try {
    let localRedis: LocalRedis | undefined;
    if (!options.redisUrl) {
      localRedis = await startLocalRedis({ dataDir: options.dataDir, logger: logger.child({ component: "redis" }) });
      stops.push({ name: "redis", stop: () => localRedis!.stop() });
    }
    const redisUrl = options.redisUrl ?? localRedis!.url;

    const store = await createStore(options.store);
    stops.push({ name: "store", stop: () => store.close() });
    if (options.seed) await seedProblems(store, logger);

    const problemApp = buildProblemApp({
      problems: store.problems,
      jwtSecret: options.jwtSecret,
      logger: loggerFor("problem-service"),
      health: async () => (await store.ping(), { database: "ok" }),
    });
    const problemServer = problemApp.listen(options.ports.problem, host) as Server;
    await new Promise<void>((resolve, reject) => problemServer.once("listening", resolve).once("error", reject));
    const problemUrl = `http://${host}:${(problemServer.address() as AddressInfo).port}`;
    stops.push({ name: "problem-service", stop: () => closeServer(problemServer) });

    const judge = await createJudge({
      engine: options.sandbox.engine,
      rootfs: options.sandbox.rootfs,
      dockerImage: options.sandbox.dockerImage,
      logger: loggerFor("evaluator-service").child({ component: "judge" }),
    });
    stops.push({ name: "judge", stop: () => judge.close() });

    const evaluator = createEvaluatorService({
      redisUrl,
      prefix: options.prefix,
      judge,
      logger: loggerFor("evaluator-service"),
      concurrency: options.evaluatorConcurrency,
    });
    stops.push({ name: "evaluator-service", stop: () => evaluator.close() });
    const evaluatorUrl = await listen(evaluator.httpServer, options.ports.evaluator, host);

    const socket = await createSocketService({
      redisUrl,
      prefix: options.prefix,
      jwtSecret: options.jwtSecret,
      logger: loggerFor("socket-service"),
    });
    stops.push({ name: "socket-service", stop: () => socket.close() });
    const socketUrl = await listen(socket.httpServer, options.ports.socket, host);

    const submissionLogger = loggerFor("submission-service");
    const queue = createSubmissionQueue({ redisUrl, prefix: options.prefix });
    stops.push({ name: "submission-queue", stop: () => queue.close() });
    const consumer = createResultConsumer({ store, redisUrl, prefix: options.prefix, logger: submissionLogger });
    stops.push({ name: "result-consumer", stop: () => consumer.close() });
    const submissionApp = await buildSubmissionApp({
      store,
      problems: createProblemClient({ baseUrl: problemUrl, jwtSecret: options.jwtSecret }),
      submissionQueue: queue.queue,
      jwtSecret: options.jwtSecret,
      logger: submissionLogger,
      maxCodeBytes: options.maxCodeBytes,
    });
    stops.push({ name: "submission-service", stop: () => submissionApp.close() });
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
