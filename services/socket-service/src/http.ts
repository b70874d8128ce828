import type { IncomingMessage, ServerResponse } from "node:http";
import { ok, type Envelope } from "@sonocode/errors";

export interface SocketHttpDeps {
  /** Resolves when Redis answers; rejects (or times out) when it does not. */
  redisPing: () => Promise<void>;
}

function send(res: ServerResponse, status: number, body: Envelope): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/**
 * Plain-node handler for the socket-service's own HTTP routes. Socket.IO intercepts
 * /socket.io/ before this runs, so the same port serves probes and websockets.
 */
export function createSocketHttpHandler(deps: SocketHttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, { success: false, message: "method not allowed", error: { code: "METHOD_NOT_ALLOWED" }, data: {} });
      return;
    }
    if (path === "/ping") {
      send(res, 200, ok({}, "pong"));
      return;
    }
    if (path === "/health") {
      deps.redisPing().then(
        () => send(res, 200, ok({ status: "ok", redis: "up" }, "healthy")),
        () =>
          send(res, 503, {
            success: false,
            message: "redis unavailable",
            error: { code: "DEPENDENCY_UNAVAILABLE" },
            data: { status: "degraded", redis: "down" },
          }),
      );
      return;
    }
    send(res, 404, { success: false, message: "route not found", error: { code: "ROUTE_NOT_FOUND" }, data: {} });
  };
}
