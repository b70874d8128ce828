import { authenticateService } from "@sonocode/auth";
import { envelopeSchema, objectIdSchema, rejudgeResultSchema } from "@sonocode/contracts";
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
        summary: "Rejudge every submission of a problem (service token; the public route is problem-service's)",
        security: [{ bearerAuth: [] }],
        params: z.object({ id: objectIdSchema }),
        response: { 202: envelopeSchema(rejudgeResultSchema), 400: errorEnvelopeSchema, 401: errorEnvelopeSchema, 403: errorEnvelopeSchema, 503: errorEnvelopeSchema },
      },
    },
    async (request, reply) => reply.status(202).send(ok(await options.service.rejudgeProblem(request.params.id, request.log), "rejudge queued")),
  );
}
