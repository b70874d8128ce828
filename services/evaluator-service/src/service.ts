import { createServer, type Server as HttpServer } from "node:http";
import type { Worker } from "bullmq";
import { createEvaluatorHttpHandler } from "./http.js";
import type { EvaluateOutcome } from "./processors/evaluate.processor.js";
import type { EvaluatorMetrics } from "./metrics.js";
import { createEvaluatorWorker, type EvaluatorWorkerDeps } from "./worker.js";

export interface EvaluatorService {
  worker: Worker<unknown, EvaluateOutcome>;
  metrics: EvaluatorMetrics;
  /** Not listening yet: the caller (main.ts or the embedded launcher) listens. */
  httpServer: HttpServer;
  /** Closes the probe server, then the worker (which waits for the running job). The judge is the caller's to close. */
  close(): Promise<void>;
}

/** Worker + /ping, /health, /metrics on one http server. */
export function createEvaluatorService(deps: EvaluatorWorkerDeps): EvaluatorService {
  const evaluator = createEvaluatorWorker(deps);
  const httpServer = createServer(
    createEvaluatorHttpHandler({
      redisPing: evaluator.redisPing,
      engineStatus: evaluator.engineStatus,
      engine: deps.judge.engine,
      concurrency: deps.concurrency ?? 1,
      renderMetrics: () => evaluator.metrics.render(),
    }),
  );
  let closing: Promise<void> | undefined;
  return {
    worker: evaluator.worker,
    metrics: evaluator.metrics,
    httpServer,
    close() {
      closing ??= (async () => {
        const httpClosed = httpServer.listening
          ? new Promise<void>((resolve) => httpServer.close(() => resolve()))
          : Promise.resolve();
        httpServer.closeIdleConnections();
        await evaluator.close();
        await httpClosed;
      })();
      return closing;
    },
  };
}
