import { AppError, isAppError, toErrorResponse, type ErrorCode, type ErrorResponse } from "@sonocode/errors";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";

/** Fastify's own request errors, mapped to the platform's codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "MALFORMED_JSON",
  FST_ERR_CTP_EMPTY_JSON_BODY: "MALFORMED_JSON",
  FST_ERR_CTP_BODY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "BAD_REQUEST",
  FST_ERR_BAD_URL: "BAD_REQUEST",
  FST_ERR_ASYNC_CONSTRAINT: "BAD_REQUEST",
};

const FASTIFY_MESSAGES: Partial<Record<ErrorCode, string>> = {
  MALFORMED_JSON: "request body is not valid JSON",
  PAYLOAD_TOO_LARGE: "request body is too large",
  UNSUPPORTED_MEDIA_TYPE: "request body must be JSON (Content-Type: application/json)",
};

interface ValidationIssue {
  instancePath?: string;
  message?: string;
}

function validationDetails(issues: readonly ValidationIssue[], context: string | undefined) {
  return issues.map((issue) => ({
    in: context ?? "request",
    path: (issue.instancePath ?? "").replace(/^\//, "").replaceAll("/", "."),
    message: issue.message ?? "invalid",
  }));
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

/**
 * Maps anything thrown during a request to the platform envelope. Validation
 * failures keep where/what but never echo the rejected value.
 */
export function toHttpError(error: unknown): ErrorResponse {
  if (isAppError(error)) return toErrorResponse(error);
  if (error instanceof Error && "validation" in error && Array.isArray((error as { validation: unknown }).validation)) {
    const { validation, validationContext } = error as Error & { validation: ValidationIssue[]; validationContext?: string };
    const zodIssues = hasZodFastifySchemaValidationErrors(error);
    const details = validationDetails(validation, validationContext);
    // A malformed :id is its own code so clients can tell it from a bad body.
    if (zodIssues && validationContext === "params" && details.some((d) => d.path === "id")) {
      return toErrorResponse(new AppError("INVALID_ID", "id must be a 24-character hex ObjectId", { details }));
    }
    return toErrorResponse(new AppError("VALIDATION_FAILED", `invalid ${validationContext ?? "request"}`, { details }));
  }
  if (isFastifyError(error)) {
    const code = FASTIFY_CODES[error.code];
    if (code) return toErrorResponse(new AppError(code, FASTIFY_MESSAGES[code] ?? "bad request"));
    // Any other client error Fastify raises keeps its status, in our envelope.
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return { status, body: { success: false, message: "bad request", error: { code: "BAD_REQUEST" }, data: {} } };
    }
  }
  return toErrorResponse(error);
}

function send(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const response = toHttpError(error);
  if (response.status === 503) {
    // An outage is designed behaviour (the client retries), not a bug: logged without the stack noise of a 500.
    request.log.warn({ err: error, errorId: response.errorId, errorCode: "code" in response.body.error ? response.body.error.code : undefined }, "dependency unavailable");
  } else if (response.status >= 500) {
    request.log.error({ err: error, errorId: response.errorId }, "request failed");
  } else {
    request.log.info({ errorCode: "code" in response.body.error ? response.body.error.code : undefined, status: response.status }, "request rejected");
  }
  if (response.retryAfterSeconds !== undefined) void reply.header("retry-after", String(response.retryAfterSeconds));
  return reply.status(response.status).type("application/json; charset=utf-8").send(response.body);
}

/** Same mapping for errors Fastify raises before routing (bad URL encoding, constraint failures). */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void send(request, reply, error);
}

/**
 * One error handler and one not-found handler for the whole app, so every
 * response, including Fastify's own 400/404/413/415, carries the envelope.
 */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error, request, reply) => send(request, reply, error));
    app.setNotFoundHandler((request, reply) =>
      send(request, reply, new AppError("ROUTE_NOT_FOUND", `route ${request.method} ${(request.url.split("?")[0] ?? "").slice(0, 200)} not found`)),
    );
  },
  { name: "errors", fastify: "5.x" },
);
