import { randomUUID } from "node:crypto";
import { z } from "zod";

/** Stable machine codes clients can branch on. Do not rename. */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  INVALID_ID: 400,
  UNSUPPORTED_LANGUAGE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PROBLEM_NOT_FOUND: 404,
  SUBMISSION_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  /** Another service (details.component names it) is down or answered with an outage. */
  DEPENDENCY_UNAVAILABLE: 503,
  /** Redis (the queues) is unreachable. */
  QUEUE_UNAVAILABLE: 503,
  /** The database is unreachable, refusing connections, or timing out (packages/store maps these). */
  DATABASE_UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error type of the platform: a code, an HTTP status, a safe message, optional details. */
export class AppError extends Error {
  override name = "AppError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  /** Sent as Retry-After (seconds) by the transports: rate limits and outages say when to come back. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  static badRequest(message: string, details?: unknown) {
    return new AppError("BAD_REQUEST", message, { details });
  }
  static notFound(code: "NOT_FOUND" | "PROBLEM_NOT_FOUND" | "SUBMISSION_NOT_FOUND", message: string) {
    return new AppError(code, message);
  }
  static unauthorized(message = "missing or invalid bearer token") {
    return new AppError("UNAUTHORIZED", message);
  }
  static forbidden(message = "not allowed") {
    return new AppError("FORBIDDEN", message);
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Turns zod issues into a client-safe list: where and what, never the rejected value itself. */
export function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

export function validationError(error: z.ZodError, where = "request"): AppError {
  return new AppError("VALIDATION_FAILED", `invalid ${where}`, { details: zodDetails(error) });
}

export interface Envelope<T = unknown> {
  success: boolean;
  message: string;
  error: Record<string, never> | { code: string; details?: unknown };
  data: T;
}

export function ok<T>(data: T, message = "ok"): Envelope<T> {
  return { success: true, message, error: {}, data };
}

export interface ErrorResponse {
  status: number;
  body: Envelope<Record<string, never>>;
  /** Set for 5xx: the id the client sees and the log line carries. */
  errorId?: string;
  /** Seconds for a Retry-After header, when the error says when to retry. */
  retryAfterSeconds?: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Maps any thrown value to a status and envelope. Each transport's error handler
 * calls this once. Anything that is not an AppError is a 500 whose body says only
 * "internal error" and an error id: internals never leak.
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (isAppError(error)) {
    const retry = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: Math.max(1, Math.ceil(error.retryAfterSeconds)) };
    if (error.status >= 500) {
      const errorId = randomUUID();
      // A designed 5xx (an outage) may name the component that is down; the id always comes last so it cannot be overridden.
      const details = isPlainObject(error.details) ? { ...error.details, errorId } : { errorId };
      return {
        status: error.status,
        errorId,
        ...retry,
        body: { success: false, message: error.message, error: { code: error.code, details }, data: {} },
      };
    }
    const errorBody = error.details === undefined ? { code: error.code } : { code: error.code, details: error.details };
    return { status: error.status, ...retry, body: { success: false, message: error.message, error: errorBody, data: {} } };
  }
  if (error instanceof z.ZodError) {
    return toErrorResponse(validationError(error));
  }
  const errorId = randomUUID();
  return {
    status: 500,
    errorId,
    body: { success: false, message: "internal error", error: { code: "INTERNAL", details: { errorId } }, data: {} },
  };
}
