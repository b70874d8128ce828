import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import express, { type ErrorRequestHandler } from "express";
import { AppError, isAppError, ok, toErrorResponse } from "@sonocode/errors";
import type { Logger } from "@sonocode/logger";
import { createApiProxy } from "./api-proxy.js";
import { DEV_SIGNIN_PATH, devSignInRouter } from "./dev-signin.router.js";
import { isApiPath, staticApp } from "./static-app.js";
import type { WebServerConfig } from "./web.config.js";

export interface WebServer {
  /** Not listening yet: the caller (main.ts, the launcher or a test) decides where. */
  server: Server;
  close(): Promise<void>;
}

/** What the app asks at start: which sign-in to offer. */
export const WEB_CONFIG_PATH = "/api/web/config";

/**
 * body-parser's and serve-static's errors are http-errors with a 4xx status: client mistakes
 * (bad JSON, an unsupported Content-Encoding, a missing asset, a path that leaves the asset
 * directory, a range past the end of a file), answered as such instead of becoming a 500.
 */
function clientError(error: unknown): AppError | undefined {
  if (isAppError(error) || typeof error !== "object" || error === null || !("status" in error)) return undefined;
  const status = Number(error.status);
  if (!(status >= 400 && status < 500)) return undefined;
  const type = "type" in error ? error.type : undefined;
  if (status === 400) return type === "entity.parse.failed" ? new AppError("MALFORMED_JSON", "malformed JSON body") : new AppError("BAD_REQUEST", "bad request");
  if (status === 413) return new AppError("PAYLOAD_TOO_LARGE", "body too large");
  if (status === 415) return new AppError("UNSUPPORTED_MEDIA_TYPE", "unsupported body encoding or charset");
  // send's 403 is a path with ".." or a dotfile: as unknown to the client as a missing file.
  if (status === 403 || status === 404) return new AppError("NOT_FOUND", "not found");
  return new AppError("BAD_REQUEST", "bad request");
}

/**
 * The methods this server itself answers on a path (the proxied API families answer for
 * themselves), or null when the path is not one of its own (an unknown /api path: 404).
 */
function ownMethods(path: string, devSignIn: boolean): string | null {
  if (path === WEB_CONFIG_PATH) return "GET, HEAD, OPTIONS";
  if (path === DEV_SIGNIN_PATH) return devSignIn ? "POST, OPTIONS" : null;
  if (isApiPath(path)) return null;
  // The app (deep links) and its assets.
  return "GET, HEAD, OPTIONS";
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const response = toErrorResponse(clientError(error) ?? error);
    if (response.errorId) logger.error({ err: error, errorId: response.errorId }, "request failed");
    res.status(response.status).json(response.body);
  };
}

/**
 * One origin for the browser: the built app, the three API families proxied to their
 * services (the WebSocket upgrade of /socket.io/ included), and, outside production, the
 * dev sign-in. The same factory serves embedded mode (the launcher passes its own URLs and
 * secret) and distributed mode (main.ts, from the environment).
 */
export function createWebServer(config: WebServerConfig, logger: Logger): WebServer {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");

  const proxy = createApiProxy(config.upstreams, logger);
  // First: proxied bodies must reach the services unread.
  app.use((req, res, next) => proxy.handle(req, res, next));

  // OPTIONS says which methods a path takes: 204 with Allow (was Express's automatic 200
  // "GET, HEAD" for any path, unknown /api ones included). No CORS headers: the app and its API share this one origin, so a preflight
  // from another origin gets no Access-Control-Allow-Origin and the browser refuses the call,
  // which is the policy (the dev sign-in also checks Host and Origin itself).
  app.options(/.*/, (req, res, next) => {
    const allow = ownMethods(req.path, config.devSignIn !== undefined);
    if (allow === null) {
      // Not Express's automatic OPTIONS answer (the app's catch-all GET route would make it a 200 for any path).
      next(new AppError("ROUTE_NOT_FOUND", `route OPTIONS ${req.path.slice(0, 200)} not found`));
      return;
    }
    res.setHeader("allow", allow);
    res.status(204).end();
  });

  app.get(WEB_CONFIG_PATH, (_req, res) => {
    res.setHeader("cache-control", "no-store");
    res.json(ok({ devSignIn: config.devSignIn !== undefined }, "web config"));
  });
  if (config.devSignIn) app.use(devSignInRouter(config.devSignIn.jwtSecret));

  app.use(staticApp(config.distDir));
  app.use((req, _res, next) => next(new AppError("ROUTE_NOT_FOUND", `route ${req.method} ${req.path.slice(0, 200)} not found`)));
  app.use(errorHandler(logger));

  const server = createServer(app);
  // Upgraded sockets leave the HTTP server's bookkeeping: kept here so close() can end them.
  const upgraded = new Set<Socket>();
  server.on("upgrade", (req, socket: Socket, head: Buffer) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    proxy.upgrade(req, socket, head);
  });

  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
        // Proxied WebSockets are long-lived: drop them so close() does not wait for every tab.
        for (const socket of upgraded) socket.destroy();
      }),
  };
}
