import type { IncomingMessage, ServerResponse } from "node:http";
import { ok, type Envelope } from "@sonocode/errors";

export function sendJson(res: ServerResponse, status: number, body: Envelope): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

export interface ProbeHandlerOptions {
  /** The one dependency /health checks, by name (e.g. "redis"), and how. */
  dependency: { name: string; check: () => Promise<void> };
  /** Extra fields in /health's data (e.g. the sandbox engine). */
  details?: Record<string, unknown>;
  /** Extra GET routes beside /ping and /health, e.g. /metrics. */
  routes?: Record<string, (res: ServerResponse) => void>;
}

/**
 * Plain-node HTTP handler for a service without a web framework (socket-service,
 * evaluator-service): GET /ping, GET /health (503 when the dependency is down),
 * extra GET routes, and envelope-shaped 404/405 for everything else.
 */
export function createProbeHandler(options: ProbeHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { name, check } = options.dependency;
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, { success: false, message: "method not allowed", error: { code: "METHOD_NOT_ALLOWED" }, data: {} });
      return;
    }
    if (path === "/ping") {
      sendJson(res, 200, ok({}, "pong"));
      return;
    }
    if (path === "/health") {
      check().then(
        () => sendJson(res, 200, ok({ status: "ok", [name]: "up", ...options.details }, "healthy")),
        () =>
          sendJson(res, 503, {
            success: false,
            message: `${name} unavailable`,
            error: { code: "DEPENDENCY_UNAVAILABLE" },
            data: { status: "degraded", [name]: "down", ...options.details },
          }),
      );
      return;
    }
    const route = options.routes?.[path];
    if (route) {
      route(res);
      return;
    }
    sendJson(res, 404, { success: false, message: "route not found", error: { code: "ROUTE_NOT_FOUND" }, data: {} });
  };
}
