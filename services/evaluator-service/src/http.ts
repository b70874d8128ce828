import type { IncomingMessage, ServerResponse } from "node:http";
import { createProbeHandler } from "@sonocode/lifecycle";

export interface EvaluatorHttpDeps {
  redisPing: () => Promise<void>;
  /** "bwrap" | "docker": which sandbox this evaluator judges with. */
  engine: string;
  concurrency: number;
  renderMetrics: () => string;
}

/** The evaluator's only HTTP surface: probes and Prometheus metrics, no framework needed. */
export function createEvaluatorHttpHandler(deps: EvaluatorHttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return createProbeHandler({
    dependency: { name: "redis", check: deps.redisPing },
    details: { engine: deps.engine, concurrency: deps.concurrency },
    routes: {
      "/metrics": (res) => {
        const text = deps.renderMetrics();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
        res.end(text);
      },
    },
  });
}
