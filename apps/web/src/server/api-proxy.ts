import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { createProxyMiddleware, type RequestHandler } from "http-proxy-middleware";
import type { Logger } from "@sonocode/logger";
import type { UpstreamUrls } from "./web.config.js";

/** Path prefixes and the upstream each belongs to; the paths reach the services unchanged. */
export const PROXY_ROUTES = [
  { prefix: "/api/v1/problems", upstream: "problem" },
  { prefix: "/api/v1/submissions", upstream: "submission" },
  // The original system's POST path, still served by submission-service.
  { prefix: "/api/v1/submission", upstream: "submission" },
  { prefix: "/api/v1/runs", upstream: "submission" },
  { prefix: "/socket.io/", upstream: "socket" },
] as const satisfies readonly { prefix: string; upstream: keyof UpstreamUrls }[];

/** A prefix matches the path itself, a sub-path or a query: /api/v1/problems, /api/v1/problems/x, /api/v1/problems?page=2. */
export function routeFor(url: string | undefined): (typeof PROXY_ROUTES)[number] | undefined {
  const path = (url ?? "").split("?", 1)[0] ?? "";
  return PROXY_ROUTES.find(({ prefix }) => {
    const base = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
    return path === base || path.startsWith(`${base}/`);
  });
}

function unavailable(res: ServerResponse | Socket, component: string): void {
  if (!("writeHead" in res)) {
    res.destroy();
    return;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // An upstream that is down is a missing dependency: 503 in the platform's envelope, never a 500.
  res.writeHead(503, { "content-type": "application/json; charset=utf-8", "retry-after": "1" });
  res.end(JSON.stringify({ success: false, message: `${component} is unavailable`, error: { code: "DEPENDENCY_UNAVAILABLE", details: { component } }, data: {} }));
}

export interface ApiProxy {
  /** Express middleware: proxies matching requests, passes others on. */
  handle(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** The HTTP server's "upgrade" listener: WebSockets of /socket.io/ go to socket-service, others are refused. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
}

export function createApiProxy(upstreams: UpstreamUrls, logger: Logger): ApiProxy {
  const proxies = new Map<keyof UpstreamUrls, RequestHandler<IncomingMessage, ServerResponse>>();
  for (const name of ["problem", "submission", "socket"] as const) {
    const component = `${name}-service`;
    proxies.set(
      name,
      createProxyMiddleware<IncomingMessage, ServerResponse>({
        target: upstreams[name],
        // Host stays the browser's: the services build no absolute URLs from it.
        changeOrigin: false,
        xfwd: true,
        // Upgrades are wired explicitly through upgrade() below, never auto-subscribed.
        ws: false,
        logger: undefined,
        on: {
          error: (err, _req, res) => {
            logger.warn({ err, component }, "upstream request failed");
            unavailable(res as ServerResponse | Socket, component);
          },
        },
      }),
    );
  }

  return {
    handle(req, res, next) {
      const route = routeFor(req.url);
      if (!route) {
        next();
        return;
      }
      void proxies.get(route.upstream)!(req, res, next);
    },
    upgrade(req, socket, head) {
      const route = routeFor(req.url);
      if (route?.upstream !== "socket") {
        socket.destroy();
        return;
      }
      proxies.get("socket")!.upgrade(req, socket, head);
    },
  };
}
