import express from "express";
import { ok } from "@sonocode/errors";
import { methodNotAllowed } from "../http/method-not-allowed.middleware.js";

export type HealthCheck = () => Promise<Record<string, "ok" | string>>;

/** A hung database must not hang the health probe: past this, the check counts as failed. */
export const HEALTH_TIMEOUT_MS = 2_000;

async function runChecks(check: HealthCheck | undefined, timeoutMs: number): Promise<Record<string, string>> {
  if (!check) return {};
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Record<string, string>>((resolve) => {
    timer = setTimeout(() => resolve({ health: `timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    // A throwing check is reported as a failed dependency, not as a 500.
    return await Promise.race([check().catch(() => ({ health: "check failed" })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRouter(options: { health?: HealthCheck | undefined; timeoutMs?: number }): express.Router {
  const router = express.Router();

  router
    .route("/ping")
    .get((_req, res) => {
      res.json(ok({ pong: true }, "pong"));
    })
    .all(methodNotAllowed(["GET", "HEAD"]));

  router
    .route("/health")
    .get(async (_req, res) => {
      const checks = await runChecks(options.health, options.timeoutMs ?? HEALTH_TIMEOUT_MS);
      const healthy = Object.values(checks).every((value) => value === "ok");
      if (healthy) {
        res.json(ok({ status: "ok", checks }, "healthy"));
        return;
      }
      // A designed 503, not a crash: the body names the failing checks so an operator sees which one.
      res.status(503).json({
        success: false,
        message: "a dependency is unavailable",
        error: { code: "DEPENDENCY_UNAVAILABLE", details: { checks } },
        data: { status: "unavailable", checks },
      });
    })
    .all(methodNotAllowed(["GET", "HEAD"]));

  return router;
}
