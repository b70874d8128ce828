import { AppError, ok } from "@sonocode/errors";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { SubmissionsService } from "../domain/submissions.service.js";
import { caller } from "../plugins/auth.plugin.js";
import { optionsRoute } from "./options.route.js";
import {
  createSubmissionBodySchema,
  createdResponseSchema,
  errorEnvelopeSchema,
  listQuerySchema,
  submissionIdParamsSchema,
  submissionListResponseSchema,
  submissionResponseSchema,
} from "./schemas.js";

export interface SubmissionsRoutesOptions {
  service: SubmissionsService;
}

const errors = {
  400: errorEnvelopeSchema,
  401: errorEnvelopeSchema,
  403: errorEnvelopeSchema,
  404: errorEnvelopeSchema,
  413: errorEnvelopeSchema,
  415: errorEnvelopeSchema,
  429: errorEnvelopeSchema,
  503: errorEnvelopeSchema,
};

export async function submissionsRoutes(app: FastifyInstance, options: SubmissionsRoutesOptions): Promise<void> {
  const { service } = options;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const security = [{ bearerAuth: [] }];

  const createRoute = (url: string, deprecated: boolean) =>
    api.post(
      url,
      {
        onRequest: app.authenticate,
        preHandler: app.submitRateLimit,
        schema: {
          tags: ["submissions"],
          summary: deprecated ? "Create a submission (original path; prefer /api/v1/submissions)" : "Create a submission",
          deprecated,
          security,
          body: createSubmissionBodySchema,
          response: { 201: createdResponseSchema, ...errors },
        },
      },
      async (request, reply) => {
        const submission = await service.create(caller(request), request.body, request.log);
        return reply.status(201).send(ok({ submission }, "submission created"));
      },
    );
  createRoute("/api/v1/submissions", false);
  // The original system's path; kept so existing clients keep working.
  createRoute("/api/v1/submission", true);

  api.get(
    "/api/v1/submissions/:id",
    {
      onRequest: app.authenticate,
      schema: {
        tags: ["submissions"],
        summary: "One submission with its verdict (owner or admin; 404 for anyone else, as for a missing one)",
        security,
        params: submissionIdParamsSchema,
        response: { 200: submissionResponseSchema, ...errors },
      },
    },
    async (request) => ok(await service.get(caller(request), request.params.id), "submission fetched"),
  );

  api.get(
    "/api/v1/submissions",
    {
      onRequest: app.authenticate,
      schema: {
        tags: ["submissions"],
        summary: "The caller's own submissions, newest first",
        security,
        querystring: listQuerySchema,
        response: { 200: submissionListResponseSchema, ...errors },
      },
    },
    async (request) => ok(await service.listOwn(caller(request), request.query), "submissions fetched"),
  );

  // A known path with the wrong method is a 405 with Allow, not a 404 that suggests a typo in the path.
  const allowed: [string, string[]][] = [
    ["/api/v1/submissions", ["GET", "HEAD", "POST"]],
    ["/api/v1/submission", ["POST"]],
    ["/api/v1/submissions/:id", ["GET", "HEAD"]],
  ];
  for (const [url, allow] of allowed) {
    // OPTIONS says what the path takes (was Fastify's 404 ROUTE_NOT_FOUND). No CORS headers:
    // see optionsRoute.
    optionsRoute(app, url, allow);
    const others = ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((method) => !allow.includes(method));
    app.route({
      method: others,
      url,
      schema: { hide: true },
      handler: async (_request, reply) => {
        void reply.header("allow", allow.join(", "));
        throw new AppError("METHOD_NOT_ALLOWED", `method not allowed; allowed: ${allow.join(", ")}`);
      },
    });
  }
}
