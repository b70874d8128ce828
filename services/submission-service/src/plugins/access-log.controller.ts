import { LogController, type FastifyReply, type FastifyRequest } from "fastify";

const MAX_LOGGED_PATH = 512;

/**
 * One access line per request instead of Fastify's two ("incoming request" when it
 * arrives, "request completed" when it is answered): log lines were about a tenth of a
 * submission POST's CPU (issue 9). The line is the one problem-service writes: method,
 * path without the query string, status and duration, under the request's logger (reqId,
 * and userId/role once authenticated); never bodies (code) and never headers (tokens).
 * Fastify's other lines (stream and serializer errors) are kept as they are.
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {
    // Nothing: the completion line below carries everything about the request.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const path = request.url.split("?", 1)[0] ?? "";
    const line = {
      method: request.method,
      path: path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path,
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (error) request.log.error({ ...line, err: error }, "request errored");
    else request.log.info(line, "request completed");
  }
}
