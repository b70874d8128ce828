import { authenticateService } from "@sonocode/auth";
import { envelopeSchema, objectIdSchema, rejudgeRequestBodySchema, rejudgeResultSchema, rejudgeSchema } from "@sonocode/contracts";
import { ok } from "@sonocode/errors";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorEnvelopeSchema } from "../routes/schemas.js";
import type { RejudgeService } from "./rejudge.service.js";

export interface RejudgeRoutesOptions {
  service: RejudgeService;
  jwtSecret: string;
}

/**
 * POST /internal/v1/problems/:id/rejudge: what problem-service calls once it has checked the
 * admin and the problem (the public route is problem-service's /api/v1/problems/:id/rejudge).
 * It records the rejudge and answers 202 with it at once; the marking runs in the background.
 * GET /internal/v1/rejudges/:rejudgeId: a rejudge's progress.
 * Only `service` tokens pass: an admin token is a 403, so nobody skips problem-service's checks.
 */
export async function rejudgeRoutes(app: FastifyInstance, options: RejudgeRoutesOptions): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const requireService = async (request: FastifyRequest) => {
    const claims = await authenticateService(request.headers.authorization, options.jwtSecret);
    request.log = request.log.child({ service: claims.sub });
  };
  api.post(
    "/internal/v1/problems/:id/rejudge",
    {
      onRequest: requireService,
      schema: {
        tags: ["internal"],
        summary: "Record a rejudge of every submission of a problem, or return the one still marking it (service token; the public route is problem-service's)",
        security: [{ bearerAuth: [] }],
        params: z.object({ id: objectIdSchema }),
        // Optional (Fastify hands a missing body over as null): problem-service names the admin who asked.
        body: rejudgeRequestBodySchema.nullish(),
        response: { 202: envelopeSchema(rejudgeResultSchema), 400: errorEnvelopeSchema, 401: errorEnvelopeSchema, 403: errorEnvelopeSchema, 409: errorEnvelopeSchema, 503: errorEnvelopeSchema },
      },
    },
    async (request, reply) => {
      const result = await options.service.request(request.params.id, request.body?.requestedBy ?? null, request.log);
      return reply.status(202).send(ok(result, result.created ? "rejudge queued" : "rejudge already in progress"));
    },
  );
  api.get(
    "/internal/v1/rejudges/:rejudgeId",
    {
      onRequest: requireService,
      schema: {
        tags: ["internal"],
        summary: "A rejudge and its progress (service token; the public route is problem-service's)",
        security: [{ bearerAuth: [] }],
        params: z.object({ rejudgeId: objectIdSchema }),
        response: { 200: envelopeSchema(rejudgeSchema), 400: errorEnvelopeSchema, 401: errorEnvelopeSchema, 403: errorEnvelopeSchema, 404: errorEnvelopeSchema, 503: errorEnvelopeSchema },
      },
    },
    async (request) => ok(await options.service.find(request.params.rejudgeId), "rejudge"),
  );
}
