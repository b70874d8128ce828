import { serviceTokenSource } from "@sonocode/auth";
import { rejudgeResultSchema, type RejudgeResult } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { z } from "zod";

/** The one thing problem-service asks of submission-service: rejudge a problem's submissions. */
export interface RejudgeClient {
  rejudge(problemId: string): Promise<RejudgeResult>;
}

export interface RejudgeClientOptions {
  /** submission-service's base URL (SUBMISSION_SERVICE_URL). */
  baseUrl: string;
  jwtSecret: string;
  /** Marking a large problem's submissions takes a while (pages of 500 rows); default 60 s. */
  timeoutMs?: number;
}

export const DEFAULT_REJUDGE_TIMEOUT_MS = 60_000;

const envelopeSchema = z.object({ success: z.boolean(), data: z.unknown() });

function unavailable(message: string, cause?: unknown, details: Record<string, unknown> = {}): AppError {
  return new AppError("DEPENDENCY_UNAVAILABLE", message, { cause, details: { component: "submission-service", ...details }, retryAfterSeconds: 5 });
}

/**
 * Calls submission-service's internal rejudge route with a short-lived `service` token:
 * submissions, their queue and their statistics are submission-service's, problem-service only
 * checks the admin and the problem. The answer is re-parsed: another service's bytes are input.
 */
export function createRejudgeClient(options: RejudgeClientOptions): RejudgeClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_REJUDGE_TIMEOUT_MS;
  const serviceToken = serviceTokenSource("problem-service", options.jwtSecret);
  return {
    async rejudge(problemId) {
      let response: Response;
      let text: string;
      try {
        response = await fetch(`${baseUrl}/internal/v1/problems/${encodeURIComponent(problemId)}/rejudge`, {
          method: "POST",
          headers: { authorization: `Bearer ${await serviceToken()}`, accept: "application/json" },
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        throw unavailable("submission-service is unavailable", error);
      }
      if (response.status !== 202) throw unavailable(`submission-service answered ${response.status}`, undefined, { upstreamStatus: response.status });
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw unavailable("submission-service answered with invalid JSON", error);
      }
      const envelope = envelopeSchema.safeParse(body);
      const result = envelope.success && envelope.data.success ? rejudgeResultSchema.safeParse(envelope.data.data) : null;
      if (!result?.success) throw unavailable("submission-service answered with an unexpected rejudge shape", result?.error);
      return result.data;
    },
  };
}
