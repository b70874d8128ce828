// Embedded mode's evaluator process: forked by the launcher (evaluator.supervisor.ts), so judging
// never shares an event loop with the API, and a crash or a wedged sandbox takes down only this
// process, which the launcher restarts. It builds the same evaluator-service factory distributed
// mode's main.ts builds; its config arrives over IPC (zod-checked here), never from the environment.
import { createJudge } from "@sonocode/judge";
import { listenHttp, onShutdownSignals, runMain } from "@sonocode/lifecycle";
import { createLogger } from "@sonocode/logger";
import { createDeferredJudge, createEvaluatorService, createTestSetCache, createTestSetClient, createTestSetProvider } from "@sonocode/evaluator-service";
import { HEARTBEAT_MS, parentMessageSchema, type ChildMessage, type EvaluatorChildConfig } from "./evaluator-child.protocol.js";

/** The launcher sends the config at once; a child that never gets it is an orphan of a failed start. */
const CONFIG_TIMEOUT_MS = 10_000;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function receiveConfig(): Promise<EvaluatorChildConfig> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no start message from the launcher")), CONFIG_TIMEOUT_MS);
    process.once("message", (raw: unknown) => {
      clearTimeout(timer);
      const message = parentMessageSchema.safeParse(raw);
      if (!message.success || message.data.type !== "start") {
        reject(new Error(`bad start message: ${message.success ? message.data.type : message.error.message}`));
        return;
      }
      resolve(message.data.config);
    });
  });
}

runMain(async () => {
  if (!process.send) throw new Error("evaluator.child.ts runs only as the embedded launcher's forked child (npm start)");
  process.title = "sonocode-evaluator";
  // The launcher's death closes the IPC channel, even on SIGKILL: this is our PR_SET_PDEATHSIG.
  // Before anything worth draining exists, leaving at once is the orderly way.
  let onLauncherGone: () => void = () => process.exit(0);
  process.once("disconnect", () => onLauncherGone());
  const config = await receiveConfig();
  // Tagged so its lines are told from the launcher's in one stream: same service name as distributed mode.
  const logger = createLogger({ service: "evaluator-service", level: config.logLevel }).child({ embedded: true, pid: process.pid });

  const judge = createDeferredJudge(async () => {
    const created = await createJudge({
      engine: config.sandbox.engine,
      // One judge slot (and pinned CPU) per worker slot, as distributed mode's main.ts does.
      maxConcurrency: config.concurrency,
      // Each free slot's next sandbox is opened ahead: a submission starts on a ready one.
      warmSessions: true,
      // Judged programs yield the CPU to the launcher's API; this process keeps its priority.
      sandboxNice: config.sandbox.nice,
      ...(config.sandbox.rootfs ? { rootfs: config.sandbox.rootfs } : {}),
      ...(config.sandbox.dockerImage ? { dockerImage: config.sandbox.dockerImage } : {}),
      logger: logger.child({ component: "judge" }),
    });
    logger.info({ engine: created.engine }, "judge ready");
    return created;
  }, config.sandbox.engine);
  // One self-test before reporting: the launcher's start-up banner names the engine, or why there is none.
  const sandboxProblem = await judge.selfTest().then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  if (sandboxProblem) logger.error({ reason: sandboxProblem }, "the sandbox does not work yet: this evaluator stays out of rotation and retests");

  const service = createEvaluatorService({
    redisUrl: config.redisUrl,
    prefix: config.prefix,
    judge,
    logger,
    concurrency: config.concurrency,
    ...(config.sandboxRetry ? { sandboxRetry: config.sandboxRetry } : {}),
    ...(config.engineHealth ? { engineHealth: config.engineHealth } : {}),
    testSets: createTestSetProvider({
      cache: createTestSetCache({ dir: config.testSetCache.dir, maxBytes: config.testSetCache.maxBytes }),
      client: createTestSetClient({ baseUrl: config.problemServiceUrl, jwtSecret: config.jwtSecret }),
    }),
  });
  const { port } = await listenHttp(service.httpServer, config.port, config.host);

  const shutdown = onShutdownSignals({
    logger,
    timeoutMs: config.drainTimeoutMs,
    // Past the deadline the process exits anyway: a job cut off is not lost, its lock lapses and it is re-run.
    stop: async () => {
      await service.close(); // probes, worker (drains running jobs), queue, Redis
      await judge.close();
    },
  });
  onLauncherGone = () => void shutdown("launcher gone");
  process.on("message", (raw: unknown) => {
    const message = parentMessageSchema.safeParse(raw);
    if (message.success && message.data.type === "shutdown") void shutdown("launcher asked");
  });
  // A stray SIGINT (the launcher runs us in our own session, so not a terminal's Ctrl-C) stops us
  // the same orderly way; onShutdownSignals wires it.

  logger.info({ port, concurrency: config.concurrency, engine: judge.engine }, "evaluator child listening");
  send({ type: "ready", port, engine: judge.engine, ...(sandboxProblem ? { sandboxProblem } : {}) });
  setInterval(() => send({ type: "alive" }), HEARTBEAT_MS).unref();
});
