import express from "express";
import { testSetHashSchema } from "@sonocode/contracts";
import { AppError, ok } from "@sonocode/errors";
import { parseProblemId } from "../domain/problems.service.js";
import type { TestSetsService } from "../domain/test-sets.service.js";
import { requireService } from "../http/auth.middleware.js";
import { methodNotAllowed } from "../http/method-not-allowed.middleware.js";

export interface InternalRouterOptions {
  service: TestSetsService;
  jwtSecret: string;
}

function parseHash(raw: unknown): string {
  const parsed = testSetHashSchema.safeParse(raw);
  if (!parsed.success) throw new AppError("BAD_REQUEST", "test-set hash must be 64 lowercase hex characters");
  return parsed.data;
}

/**
 * Service-to-service routes, mounted at /internal/v1: only tokens with the narrow
 * `service` role (minted by submission-service and evaluators, minutes long) pass;
 * user and admin tokens are refused, so no person reaches hidden tests this way.
 */
export function internalRouter(options: InternalRouterOptions): express.Router {
  const { service } = options;
  const router = express.Router();
  router.use(requireService(options.jwtSecret));

  router
    .route("/problems/:id")
    .get(async (req, res) => {
      res.json(ok(await service.judgingProblem(parseProblemId(req.params.id)), "problem fetched"));
    })
    .all(methodNotAllowed(["GET", "HEAD"]));

  router
    .route("/problems/:id/test-set/:hash")
    .get(async (req, res) => {
      const testSet = await service.testSet(parseProblemId(req.params.id), parseHash(req.params.hash));
      // Content-addressed: the bytes behind a hash never change.
      res.set("cache-control", "private, max-age=31536000, immutable");
      res.json(ok(testSet, "test set fetched"));
    })
    .all(methodNotAllowed(["GET", "HEAD"]));

  return router;
}
