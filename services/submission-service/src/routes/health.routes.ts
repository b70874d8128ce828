import { ok } from "@sonocode/errors";
import type { Store } from "@sonocode/store";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { pingQueue } from "../queues/submission.queue.js";
import { healthResponseSchema, pingResponseSchema } from "./schemas.js";

export interface HealthRoutesOptions {
  store: Store;
  queue: Queue;
  /** Extra checks from the launcher; a value other than "ok" marks the service down. */
  health?: () => Promise<Record<string, string>>;
}

const HEALTH_CHECK_TIMEOUT_MS = 2_000;

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), HEALTH_CHECK_TIMEOUT_MS);
      }),
    ]);
    return "ok";
  } catch (error) {
    // A short reason for operators; never a connection string.
    return `down: ${error instanceof Error ? error.message.slice(0, 120) : "unreachable"}`;
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    "/ping",
    { schema: { tags: ["health"], summary: "Liveness", response: { 200: pingResponseSchema } } },
    async () => ok({ pong: true as const }, "pong"),
  );

  api.get(
    "/health",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: database and Redis",
        response: { 200: healthResponseSchema, 503: healthResponseSchema },
      },
    },
    async (_request, reply) => {
      const [database, redis, extra] = await Promise.all([
        check(() => options.store.ping()),
        check(() => pingQueue(options.queue, HEALTH_CHECK_TIMEOUT_MS)),
        options.health ? options.health().catch((error: unknown) => ({ extra: `down: ${String(error).slice(0, 120)}` })) : Promise.resolve({}),
      ]);
      const checks: Record<string, string> = { database, redis, ...extra };
      const healthy = Object.values(checks).every((value) => value === "ok");
      if (healthy) return reply.status(200).send(ok({ status: "ok" as const, checks }, "healthy"));
      return reply.status(503).send({
        success: false,
        message: "unhealthy",
        error: { code: "DEPENDENCY_UNAVAILABLE", details: checks },
        data: { status: "down" as const, checks },
      });
    },
  );
}
