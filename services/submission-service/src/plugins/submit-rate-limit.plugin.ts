import rateLimit from "@fastify/rate-limit";
import { AppError } from "@sonocode/errors";
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import fp from "fastify-plugin";
import type { IngestPipeline } from "../queues/ingest.pipeline.js";

declare module "fastify" {
  interface FastifyInstance {
    /** preHandler for POST /submissions and POST /runs: 429 TOO_MANY_REQUESTS past the per-user, per-minute cap (one count for both). */
    submitRateLimit: preHandlerAsyncHookHandler;
  }
}

export interface SubmitRateLimitOptions {
  /** Submissions per user per minute; 0 turns the limit off. */
  perMinute: number;
  /** Shared counters in Redis (every replica sees the same ones); without it each process counts alone. */
  counter?: IngestPipeline["countInWindow"] | undefined;
  /** REDIS_PREFIX, so several platforms can share one Redis. */
  prefix: string;
}

const WINDOW_MS = 60_000;

function userOf(request: FastifyRequest): string {
  // Runs after authenticate (preHandler), so auth is set on every route that uses it.
  return request.auth?.sub ?? "anonymous";
}

/**
 * @fastify/rate-limit's store interface over the ingest pipeline: the count of
 * a POST rides in the same Redis pipeline as the other requests' commands of
 * that event-loop turn instead of costing a round trip of its own.
 */
function pipelinedStore(counter: IngestPipeline["countInWindow"], nameSpace: string) {
  return class PipelinedRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number = WINDOW_MS): void {
      counter(nameSpace + key, timeWindow).then(
        (result) => callback(null, result),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }
    child(): PipelinedRateLimitStore {
      return this;
    }
  };
}

/**
 * Per-user submission rate with @fastify/rate-limit: a fixed one-minute window
 * per user, counted in Redis (one INCR per POST, pipelined with the turn's other
 * commands) so the cap holds across replicas. Admins are exempt. If Redis cannot be reached the request is let
 * through (skipOnError): the enqueue that follows answers 503 QUEUE_UNAVAILABLE
 * on its own, and a limiter must never be the reason a healthy platform refuses work.
 */
export const submitRateLimitPlugin = fp<SubmitRateLimitOptions>(
  async (app: FastifyInstance, options) => {
    if (options.perMinute <= 0) {
      app.decorate("submitRateLimit", async () => undefined);
      return;
    }
    await app.register(rateLimit, {
      global: false,
      max: options.perMinute,
      timeWindow: WINDOW_MS,
      hook: "preHandler",
      ...(options.counter ? { store: pipelinedStore(options.counter, `${options.prefix}:submit-rate:`) } : {}),
      skipOnError: true,
      keyGenerator: userOf,
      allowList: (request: FastifyRequest) => request.auth?.role === "admin",
      // Thrown into the errors plugin: the envelope, code TOO_MANY_REQUESTS and Retry-After.
      errorResponseBuilder: (_request, context) =>
        new AppError("TOO_MANY_REQUESTS", `at most ${context.max} submissions per minute; try again in ${context.after}`, {
          details: { limit: "per-minute", max: context.max },
          retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1_000)),
        }),
    });
    // One limiter (one counter per user) shared by both submission POST paths and POST /api/v1/runs.
    app.decorate("submitRateLimit", app.rateLimit() as preHandlerAsyncHookHandler);
  },
  { name: "submit-rate-limit", fastify: "5.x", dependencies: ["auth", "errors"] },
);
