import express from "express";
import { AppError } from "@sonocode/errors";
import type { Logger } from "@sonocode/logger";
import type { ProblemRepository } from "@sonocode/store";
import { ProblemsService } from "./domain/problems.service.js";
import { errorHandler } from "./http/error-handler.middleware.js";
import { requestContext } from "./http/request-context.middleware.js";
import { buildOpenApiDocument } from "./openapi/openapi.document.js";
import { healthRouter, type HealthCheck } from "./routes/health.router.js";
import { methodNotAllowed } from "./http/method-not-allowed.middleware.js";
import { problemsRouter } from "./routes/problems.router.js";
import { internalRouter } from "./routes/internal.router.js";
import { importRouter } from "./routes/import.router.js";
import { rejudgeRouter } from "./routes/rejudge.router.js";
import type { RejudgeClient } from "./clients/rejudge.client.js";
import { TestSetsService } from "./domain/test-sets.service.js";
import { announcingChanges, type ProblemChangePublisher } from "./events/problem-changes.publisher.js";

export interface ProblemAppDeps {
  problems: ProblemRepository;
  jwtSecret: string;
  logger: Logger;
  /** Dependency checks for GET /health (e.g. a db ping): "ok" or a short, non-secret reason. */
  health?: HealthCheck;
  /** Announces replaced, patched and deleted problems (submission-service caches the judging view). */
  changes?: ProblemChangePublisher;
  /** express.json limit for problem bodies (default "10mb": problems embed their test data). */
  jsonBodyLimit?: string | number;
  /** submission-service's rejudge route (createRejudgeClient); absent: POST .../rejudge answers 503. */
  rejudge?: RejudgeClient;
}

export const DEFAULT_JSON_BODY_LIMIT = "10mb";

/**
 * Builds the problem-service HTTP app. It never listens and never reads process.*:
 * main.ts (or a test, or the embedded launcher) decides where it runs.
 */
export function buildProblemApp(deps: ProblemAppDeps): express.Express {
  const app = express();
  // No framework fingerprint; "simple" query parsing (node:querystring) so ?a[b]=1 stays a
  // flat string key instead of a nested object the schemas would have to fight.
  app.disable("x-powered-by");
  app.set("query parser", "simple");

  app.use(requestContext(deps.logger));

  app.use(healthRouter({ health: deps.health }));

  // Built once: the contracts do not change while the process runs.
  const openApiDocument = buildOpenApiDocument();
  // The one response outside the envelope: OpenAPI tooling expects the bare document.
  app
    .route("/openapi.json")
    .get((_req, res) => {
      res.json(openApiDocument);
    })
    .all(methodNotAllowed(["GET", "HEAD"]));

  const problemsService = new ProblemsService(deps.changes ? announcingChanges(deps.problems, deps.changes) : deps.problems);
  // Before the problems router, whose /:id would otherwise claim "import".
  app.use("/api/v1/problems/import", importRouter({ service: problemsService, jwtSecret: deps.jwtSecret }));
  app.use("/api/v1/problems", rejudgeRouter({ problems: deps.problems, rejudge: deps.rejudge, jwtSecret: deps.jwtSecret }));
  app.use(
    "/api/v1/problems",
    problemsRouter({
      service: problemsService,
      jwtSecret: deps.jwtSecret,
      jsonBodyLimit: deps.jsonBodyLimit ?? DEFAULT_JSON_BODY_LIMIT,
    }),
  );

  app.use("/internal/v1", internalRouter({ service: new TestSetsService(deps.problems), jwtSecret: deps.jwtSecret }));

  // Anything no route claimed: a 404 in the envelope, not Express's HTML page.
  app.use((req, _res, next) => {
    next(new AppError("ROUTE_NOT_FOUND", `route ${req.method} ${req.path.slice(0, 200)} not found`));
  });
  app.use(errorHandler());
  return app;
}
