import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "@sonocode/logger";

// Declared next to the middleware that sets them: every handler after it can rely on both.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Correlates every log line of one request; echoed as x-request-id. */
      reqId: string;
      /** The root logger's child for this request, bound to reqId. */
      log: Logger;
    }
  }
}

/** A caller-supplied id is reused only when it is short and plain, so it cannot inject into logs. */
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Gives each request an id and a child logger, and writes one access line when the
 * response is done. Only method, path (no query string), status and duration: never
 * bodies (test data, editorials) and never headers (tokens).
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get("x-request-id");
    const reqId = incoming && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.reqId = reqId;
    req.log = logger.child({ reqId });
    res.setHeader("x-request-id", reqId);
    const started = performance.now();
    res.on("finish", () => {
      const durationMs = performance.now() - started;
      const path = req.originalUrl.split("?", 1)[0] ?? "";
      req.log.info(
        { method: req.method, path: path.length > 512 ? `${path.slice(0, 512)}…` : path, status: res.statusCode, durationMs: Math.round(durationMs * 100) / 100 },
        "request completed",
      );
    });
    next();
  };
}
