import express from "express";
import { objectIdSchema } from "@sonocode/contracts";
import { AppError, ok } from "@sonocode/errors";
import type { ProblemRepository } from "@sonocode/store";
import type { RejudgeClient } from "../clients/rejudge.client.js";
import { parseProblemId } from "../domain/problems.service.js";
import { requireAdmin } from "../http/auth.middleware.js";
import { methodNotAllowed } from "../http/method-not-allowed.middleware.js";

export interface RejudgeRouterOptions {
  problems: ProblemRepository;
  /** Absent: this problem-service was started without SUBMISSION_SERVICE_URL wiring; the routes answer 503. */
  rejudge?: RejudgeClient | undefined;
  jwtSecret: string;
}

function client(options: RejudgeRouterOptions): RejudgeClient {
  if (!options.rejudge) {
    throw new AppError("DEPENDENCY_UNAVAILABLE", "rejudging is not configured on this problem-service", { details: { component: "submission-service" }, retryAfterSeconds: 60 });
  }
  return options.rejudge;
}

/**
 * POST /api/v1/problems/:id/rejudge (admin) -> 202 with the rejudge: every submission of the
 * problem is judged again in the background, behind fresh submissions and runs. The answer comes
 * once the rejudge is recorded (submission-service marks the submissions afterwards); asked again
 * while that one is still marking, it is returned (created: false) instead of starting another.
 * GET /api/v1/problems/:id/rejudges/:rejudgeId (admin) -> 200 with its progress.
 * Admin and problem are checked here (401/403, 400 bad id, 404); the submissions are submission-service's.
 */
export function rejudgeRouter(options: RejudgeRouterOptions): express.Router {
  const router = express.Router({ mergeParams: true });
  router
    .route("/:id/rejudge")
    .post(requireAdmin(options.jwtSecret), async (req, res) => {
      const id = parseProblemId(req.params.id);
      if (!(await options.problems.findById(id))) throw AppError.notFound("PROBLEM_NOT_FOUND", `problem ${id} not found`);
      const result = await client(options).rejudge(id, req.auth?.sub);
      req.log.info({ problemId: id, rejudgeId: result._id, created: result.created, queued: result.queued, admin: req.auth?.sub }, "rejudge requested");
      res.status(202).json(ok(result, result.created ? "rejudge queued" : "rejudge already in progress"));
    })
    .all(methodNotAllowed(["POST"]));
  router
    .route("/:id/rejudges/:rejudgeId")
    .get(requireAdmin(options.jwtSecret), async (req, res) => {
      const id = parseProblemId(req.params.id);
      const rejudgeId = objectIdSchema.safeParse(req.params.rejudgeId);
      if (!rejudgeId.success) throw new AppError("INVALID_ID", "rejudge id must be a 24-character hex ObjectId");
      const rejudge = await client(options).find(rejudgeId.data);
      // Another problem's rejudge is not found under this one.
      if (!rejudge || rejudge.problemId !== id) throw AppError.notFound("NOT_FOUND", `rejudge ${rejudgeId.data} of problem ${id} not found`);
      res.json(ok(rejudge, "rejudge"));
    })
    .all(methodNotAllowed(["GET"]));
  return router;
}
