import express from "express";
import { AppError, ok } from "@sonocode/errors";
import type { ProblemRepository } from "@sonocode/store";
import type { RejudgeClient } from "../clients/rejudge.client.js";
import { parseProblemId } from "../domain/problems.service.js";
import { requireAdmin } from "../http/auth.middleware.js";
import { methodNotAllowed } from "../http/method-not-allowed.middleware.js";

export interface RejudgeRouterOptions {
  problems: ProblemRepository;
  /** Absent: this problem-service was started without SUBMISSION_SERVICE_URL wiring; the route answers 503. */
  rejudge?: RejudgeClient | undefined;
  jwtSecret: string;
}

/**
 * POST /api/v1/problems/:id/rejudge (admin) -> 202 { queued }: every submission of the problem
 * is judged again in the background, behind fresh submissions and runs. Admin and problem are
 * checked here (401/403, 400 bad id, 404); the submissions are submission-service's.
 */
export function rejudgeRouter(options: RejudgeRouterOptions): express.Router {
  const router = express.Router({ mergeParams: true });
  router
    .route("/:id/rejudge")
    .post(requireAdmin(options.jwtSecret), async (req, res) => {
      const id = parseProblemId(req.params.id);
      if (!(await options.problems.findById(id))) throw AppError.notFound("PROBLEM_NOT_FOUND", `problem ${id} not found`);
      if (!options.rejudge) {
        throw new AppError("DEPENDENCY_UNAVAILABLE", "rejudging is not configured on this problem-service", { details: { component: "submission-service" }, retryAfterSeconds: 60 });
      }
      const result = await options.rejudge.rejudge(id);
      req.log.info({ problemId: id, queued: result.queued, admin: req.auth?.sub }, "rejudge requested");
      res.status(202).json(ok(result, "rejudge queued"));
    })
    .all(methodNotAllowed(["POST"]));
  return router;
}
