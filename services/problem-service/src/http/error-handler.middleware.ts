import type { ErrorRequestHandler, NextFunction, Request, Response } from "express";
import { z } from "zod";
import { AppError, toErrorResponse, type ErrorCode } from "@sonocode/errors";

/**
 * Errors raised by Express itself and by body-parser are http-errors: they carry a
 * status and, for body-parser, a `type`. They are client mistakes, not crashes, so
 * they are translated into AppErrors here instead of falling through to a 500.
 */
interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { status, statusCode } = error as HttpLikeError;
  const value = typeof status === "number" ? status : typeof statusCode === "number" ? statusCode : undefined;
  return value !== undefined && Number.isInteger(value) && value >= 400 && value <= 599 ? value : undefined;
}

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
};

/** Maps whatever reached the handler to an AppError (or leaves it alone for a 500). */
export function normalizeError(error: unknown): unknown {
  if (error instanceof AppError || error instanceof z.ZodError) return error;
  const status = httpStatusOf(error);
  if (status === undefined || status >= 500) return error;
  const type = (error as HttpLikeError).type;
  switch (type) {
    case "entity.parse.failed":
      return new AppError("MALFORMED_JSON", "request body is not valid JSON", { cause: error });
    case "entity.too.large":
      return new AppError("PAYLOAD_TOO_LARGE", "request body is too large", { cause: error });
    case "charset.unsupported":
    case "encoding.unsupported":
      return new AppError("UNSUPPORTED_MEDIA_TYPE", "unsupported body charset or content encoding", { cause: error });
    default: {
      // e.g. a malformed %-escape in a path parameter, an aborted or truncated body.
      const code = STATUS_CODES[status] ?? "BAD_REQUEST";
      return new AppError(code, code === "BAD_REQUEST" ? "bad request" : code.toLowerCase().replaceAll("_", " "), { cause: error });
    }
  }
}

/**
 * The one error handler of the service: every failure becomes the platform envelope
 * exactly once. 5xx bodies carry only an error id; the error itself is logged under `err`.
 */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      // Too late for an envelope: let Express abort the connection.
      next(error);
      return;
    }
    const response = toErrorResponse(normalizeError(error));
    if (response.errorId !== undefined) {
      req.log.error({ err: error, errorId: response.errorId }, "request failed");
    } else if (response.status === 401 || response.status === 403) {
      req.log.info({ error: response.body.error, status: response.status }, "request refused");
    } else {
      req.log.debug({ error: response.body.error, status: response.status }, "request rejected");
    }
    if (response.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(response.retryAfterSeconds));
    res.status(response.status).json(response.body);
  };
}
