import { LANGUAGES, MAX_RUN_INPUT_BYTES, RUN_RETENTION_MS, createdRunSchema, envelopeSchema, isStorableText, objectIdSchema, runSchema } from "@sonocode/contracts";
import { AppError, ok } from "@sonocode/errors";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RunsService } from "../domain/runs.service.js";
import { caller } from "../plugins/auth.plugin.js";
import { optionsRoute } from "./options.route.js";
import { errorEnvelopeSchema } from "./schemas.js";

export interface RunsRoutesOptions {
  service: RunsService;
  /** POST body cap: the submissions' (derived from the code cap) plus room for a full custom input. */
  bodyLimit: number;
}

/**
 * POST body. As for submissions, `language` is a bounded free string (an unknown one gets
 * UNSUPPORTED_LANGUAGE with the list) and unknown keys are stripped (the owner comes from the
 * token). The input's byte cap is checked by the service (400 with the sizes).
 */
const createRunBodySchema = z.object({
  problemId: objectIdSchema,
  language: z.string().min(1).max(64).describe(`one of ${LANGUAGES.join(", ")} (case-insensitive)`),
  code: z.string().min(1, "code must not be empty").describe("the user's code; wrapped in the problem's stub for the language, if any"),
  // The contract's storable-text rule, in the caller's words (its own message names an internal helper).
  input: z
    .string()
    .refine(isStorableText, { message: "input must not contain a NUL byte (U+0000) or an unpaired surrogate (text a program can read as UTF-8)" })
    .optional()
    .describe(`custom input (at most ${MAX_RUN_INPUT_BYTES} UTF-8 bytes); absent: the problem's visible tests. Its expected output comes from the problem's reference solution, or is null`),
});

const runIdParamsSchema = z.object({ id: objectIdSchema });
const createdRunResponseSchema = envelopeSchema(z.object({ run: createdRunSchema }));
const runResponseSchema = envelopeSchema(runSchema);

const errors = {
  400: errorEnvelopeSchema,
  401: errorEnvelopeSchema,
  404: errorEnvelopeSchema,
  413: errorEnvelopeSchema,
  415: errorEnvelopeSchema,
  429: errorEnvelopeSchema,
  503: errorEnvelopeSchema,
};

export async function runsRoutes(app: FastifyInstance, options: RunsRoutesOptions): Promise<void> {
  const { service } = options;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const security = [{ bearerAuth: [] }];

  api.post(
    "/api/v1/runs",
    {
      bodyLimit: options.bodyLimit,
      onRequest: app.authenticate,
      // The submissions' per-user, per-minute limiter: one counter for submissions and runs together.
      preHandler: app.submitRateLimit,
      schema: {
        tags: ["runs"],
        summary: "Run code on the problem's visible tests or on a custom input (202; the result arrives as socket event run:result)",
        description: `Runs are judged ahead of queued submissions, kept ${RUN_RETENTION_MS / 3_600_000} h, never counted in problem statistics. Hidden tests are never run or shown.`,
        security,
        body: createRunBodySchema,
        response: { 202: createdRunResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const run = await service.create(caller(request), request.body, request.log);
      return reply.status(202).send(ok({ run }, "run queued"));
    },
  );

  api.get(
    "/api/v1/runs/:id",
    {
      onRequest: app.authenticate,
      schema: {
        tags: ["runs"],
        summary: "One run with its outputs (owner or admin; 404 for anyone else)",
        security,
        params: runIdParamsSchema,
        response: { 200: runResponseSchema, ...errors },
      },
    },
    async (request) => ok(await service.get(caller(request), request.params.id), "run fetched"),
  );

  const allowed: [string, string[]][] = [
    ["/api/v1/runs", ["POST"]],
    ["/api/v1/runs/:id", ["GET", "HEAD"]],
  ];
  for (const [url, allow] of allowed) {
    // OPTIONS says what the path takes (was Fastify's 404 ROUTE_NOT_FOUND). No CORS headers:
    // see optionsRoute.
    optionsRoute(app, url, allow);
    app.route({
      method: ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((method) => !allow.includes(method)),
      url,
      schema: { hide: true },
      handler: async (_request, reply) => {
        void reply.header("allow", allow.join(", "));
        throw new AppError("METHOD_NOT_ALLOWED", `method not allowed; allowed: ${allow.join(", ")}`);
      },
    });
  }
}
