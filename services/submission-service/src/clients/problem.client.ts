import { serviceTokenSource } from "@sonocode/auth";
import { judgingProblemSchema, type JudgingProblem } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { z } from "zod";

/** The one thing submission-service needs from problem-service. */
export interface ProblemClient {
  /** The judging view of a problem (stubs, limits, checker, test-set reference; no tests), or null when it does not exist. */
  getProblem(id: string): Promise<JudgingProblem | null>;
}

export interface ProblemClientOptions {
  baseUrl: string;
  jwtSecret: string;
  /** Per request; a slow problem-service must not hold submissions open. */
  timeoutMs?: number;
}

export const DEFAULT_PROBLEM_CLIENT_TIMEOUT_MS = 5_000;

const envelopeSchema = z.object({ success: z.boolean(), data: z.unknown() });

/** details.component names what is down, so a 503 from here is never mistaken for our own database or Redis. */
function unavailable(message: string, cause?: unknown, details: Record<string, unknown> = {}): AppError {
  return new AppError("DEPENDENCY_UNAVAILABLE", message, { cause, details: { component: "problem-service", ...details }, retryAfterSeconds: 5 });
}

/**
 * Reads the judging view from problem-service's internal endpoint with a short-lived
 * token of the narrow `service` role (user and admin endpoints refuse it). The view
 * carries the test-set reference, not the tests, so a POST never moves the test data.
 * The response is re-parsed with the contract's schema: another service's bytes are input.
 */
export function createProblemClient(options: ProblemClientOptions): ProblemClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBLEM_CLIENT_TIMEOUT_MS;
  const serviceToken = serviceTokenSource("submission-service", options.jwtSecret);

  return {
    async getProblem(id: string): Promise<JudgingProblem | null> {
      const url = `${baseUrl}/internal/v1/problems/${encodeURIComponent(id)}`;
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          headers: { authorization: `Bearer ${await serviceToken()}`, accept: "application/json" },
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        throw unavailable("problem-service is unavailable", error);
      }
      if (response.status === 404) return null;
      if (!response.ok) {
        throw unavailable(`problem-service answered ${response.status}`, undefined, { upstreamStatus: response.status });
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw unavailable("problem-service answered with invalid JSON", error);
      }
      const envelope = envelopeSchema.safeParse(body);
      const problem = envelope.success && envelope.data.success ? judgingProblemSchema.safeParse(envelope.data.data) : null;
      if (!problem?.success) {
        throw unavailable("problem-service answered with an unexpected problem shape", problem?.error);
      }
      return problem.data;
    },
  };
}
