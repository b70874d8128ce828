import { DEFAULT_MAX_CODE_BYTES, MAX_RUN_INPUT_BYTES } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import type { Store } from "@sonocode/store";
import type { Queue } from "bullmq";
import { Redis } from "ioredis";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { ProblemClient } from "./clients/problem.client.js";
import { SUBMISSION_LIMIT_DEFAULTS, type SubmissionLimits } from "./domain/submission-limits.js";
import { SubmissionsService } from "./domain/submissions.service.js";
import { createIngestPipeline } from "./queues/ingest.pipeline.js";
import { AccessLogController } from "./plugins/access-log.controller.js";
import { authPlugin } from "./plugins/auth.plugin.js";
import { errorsPlugin, frameworkErrorHandler } from "./plugins/errors.plugin.js";
import { submitRateLimitPlugin } from "./plugins/submit-rate-limit.plugin.js";
import { swaggerPlugin } from "./plugins/swagger.plugin.js";
import { healthRoutes } from "./routes/health.routes.js";
import { submissionsRoutes } from "./routes/submissions.routes.js";
import { RunsService } from "./domain/runs.service.js";
import { runsRoutes } from "./routes/runs.routes.js";
import { rejudgeRoutes } from "./rejudge/rejudge.routes.js";
import { RejudgeService } from "./rejudge/rejudge.service.js";

export interface SubmissionAppDeps {
  store: Store;
  problems: ProblemClient;
  /** BullMQ producer for SubmissionQueue (see createSubmissionQueue). */
  submissionQueue: Queue;
  jwtSecret: string;
  logger: Logger;
  /** Largest accepted `code`, in UTF-8 bytes (413 beyond). */
  maxCodeBytes?: number;
  /** Extra readiness checks; any value other than "ok" turns /health into a 503. */
  health?: () => Promise<Record<string, string>>;
  /** How long POST waits for the queue before answering 503. */
  enqueueTimeoutMs?: number;
  /** Per-user caps on POST (admins exempt); 0 turns one off. Defaults: SUBMISSION_LIMIT_DEFAULTS. */
  limits?: Partial<SubmissionLimits>;
  /** Runs (POST /api/v1/runs): how long a run may stay non-final before the sweep makes it IE (default RUN_DEFAULT_DEADLINE_MS). */
  runDeadlineMs?: number;
  /** The rejudge feeder (createRejudgeFeeder), woken when a rejudge is marked; without it the next tick of one elsewhere picks it up. */
  rejudgeFeeder?: { wake(): void } | undefined;
}

/** Counts in Redis only on the producer's own ioredis connection (createSubmissionQueue passes one). */
function sharesRedis(queue: Queue): boolean {
  return queue.opts.connection instanceof Redis;
}

/**
 * Requests Node's HTTP parser rejects never reach Fastify's routing; answer
 * them in the envelope too instead of Fastify's default body.
 */
function clientErrorHandler(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) return;
  const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  const body = JSON.stringify({ success: false, message: "malformed HTTP request", error: { code: "BAD_REQUEST" }, data: {} });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Bad Request"}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Room for JSON escaping of text of `bytes` UTF-8 bytes: an encoder may write any byte as six
 * (`\u0001`; Go's encoding/json does so for `<`, `>` and `&`, and an ASCII-only encoder such as
 * Python's default writes the two bytes of `é` as `\u00e9`), so the limit is the field's own
 * byte cap (checked after parsing) that decides, whatever the client's encoder.
 */
const escapedBytes = (bytes: number): number => bytes * 6;

/** Room for the code as any encoder escapes it, and the other fields. */
export function bodyLimitFor(maxCodeBytes: number): number {
  return escapedBytes(maxCodeBytes) + 16 * 1024;
}

/**
 * Builds the HTTP app: never listens and never reads process.*, so tests and the
 * embedded launcher drive exactly what main.ts runs.
 */
export async function buildSubmissionApp(deps: SubmissionAppDeps): Promise<FastifyInstance> {
  const maxCodeBytes = deps.maxCodeBytes ?? DEFAULT_MAX_CODE_BYTES;
  // Request logs carry "reqId" (Fastify's default label) through request.log children.
  const app = Fastify({
    // Typed as Fastify's base logger so the app is a plain FastifyInstance; it is still the pino root.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One access line per request (see AccessLogController).
    logController: new AccessLogController(),
    genReqId: (request) => {
      // Accept a caller's correlation id only when it is short and plain; it ends up in logs.
      const incoming = request.headers["x-request-id"];
      return typeof incoming === "string" && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: bodyLimitFor(maxCodeBytes),
    // Errors Fastify raises before routing (bad URL encoding) still get the envelope.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Route ids are ObjectIds; a longer parameter is rejected by validation anyway.
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Only JSON bodies: a text/plain body is a 415, not a string the schema then rejects.
  app.removeContentTypeParser("text/plain");

  await app.register(errorsPlugin);
  await app.register(authPlugin, { jwtSecret: deps.jwtSecret });
  await app.register(swaggerPlugin);
  const limits = { ...SUBMISSION_LIMIT_DEFAULTS, ...deps.limits };
  // One Redis pipeline per event-loop turn for the POST path: rate-limit counts and job adds alike.
  const ingest = createIngestPipeline(deps.submissionQueue, { timeoutMs: deps.enqueueTimeoutMs });
  await app.register(submitRateLimitPlugin, {
    perMinute: limits.perMinute,
    counter: sharesRedis(deps.submissionQueue) ? ingest.countInWindow : undefined,
    prefix: deps.submissionQueue.opts.prefix ?? "bull",
  });

  const service = new SubmissionsService({
    store: deps.store,
    problems: deps.problems,
    enqueuer: ingest,
    maxCodeBytes,
    maxInFlight: limits.maxInFlight,
  });
  await app.register(healthRoutes, {
    store: deps.store,
    queue: deps.submissionQueue,
    ...(deps.health ? { health: deps.health } : {}),
  });
  await app.register(submissionsRoutes, { service });
  const runs = new RunsService({
    store: deps.store,
    problems: deps.problems,
    queue: deps.submissionQueue,
    maxCodeBytes,
    maxInFlight: limits.maxInFlight,
    ...(deps.runDeadlineMs === undefined ? {} : { deadlineMs: deps.runDeadlineMs }),
    ...(deps.enqueueTimeoutMs === undefined ? {} : { enqueueTimeoutMs: deps.enqueueTimeoutMs }),
  });
  await app.register(runsRoutes, { service: runs, bodyLimit: bodyLimitFor(maxCodeBytes) + escapedBytes(MAX_RUN_INPUT_BYTES) });
  await app.register(rejudgeRoutes, { service: new RejudgeService({ store: deps.store, feeder: deps.rejudgeFeeder }), jwtSecret: deps.jwtSecret });

  // Callback hooks: an async one costs a promise per request on the hottest path.
  app.addHook("onSend", (request, reply, payload, done) => {
    void reply.header("x-request-id", request.id);
    done(null, payload);
  });
  await app.ready();
  return app;
}
