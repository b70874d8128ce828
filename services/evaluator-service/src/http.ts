import type { IncomingMessage, ServerResponse } from "node:http";
import { ok, type Envelope } from "@sonocode/errors";

export interface EvaluatorHttpDeps {
  redisPing: () => Promise<void>;
  /** "bwrap" | "docker": which sandbox this evaluator judges with. */
  engine: string;
  concurrency: number;
  renderMetrics: () => string;
}

function sendJson(res: ServerResponse, status: number, body: Envelope): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/** The evaluator's only HTTP surface: probes and metrics, no framework needed. */
export function createEvaluatorHttpHandler(deps: EvaluatorHttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, { success: false, message: "method not allowed", error: { code: "METHOD_NOT_ALLOWED" }, data: {} });
      return;
    }
    switch (path) {
      case "/ping":
        sendJson(res, 200, ok({}, "pong"));
        return;
      case "/health":
        deps.redisPing().then(
          () => sendJson(res, 200, ok({ status: "ok", redis: "up", engine: deps.engine, concurrency: deps.concurrency }, "healthy")),
          () =>
            sendJson(res, 503, {
              success: false,
              message: "redis unavailable",
              error: { code: "DEPENDENCY_UNAVAILABLE" },
              data: { status: "degraded", redis: "down", engine: deps.engine, concurrency: deps.concurrency },
            }),
        );
        return;
      case "/metrics": {
        const text = deps.renderMetrics();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
        res.end(text);
        return;
      }
      default:
        sendJson(res, 404, { success: false, message: "route not found", error: { code: "ROUTE_NOT_FOUND" }, data: {} });
    }
  };
}
