import { serviceTokenSource } from "@sonocode/auth";
import { rejudgeResultSchema, rejudgeSchema, type Rejudge, type RejudgeResult } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { z } from "zod";

/** What problem-service asks of submission-service: rejudge a problem's submissions, and how far that got. */
export interface RejudgeClient {
  /** Records a rejudge (or returns the one still marking the problem); `requestedBy` names the admin. */
  rejudge(problemId: string, requestedBy?: string): Promise<RejudgeResult>;
  /** A rejudge and its progress; null when submission-service knows no such rejudge. */
  find(rejudgeId: string): Promise<Rejudge | null>;
}

export interface RejudgeClientOptions {
  /** submission-service's base URL (SUBMISSION_SERVICE_URL). */
  baseUrl: string;
  jwtSecret: string;
  /** The rejudge is only recorded in the request (the marking runs in the background): default 10 s. */
  timeoutMs?: number;
}

export const DEFAULT_REJUDGE_TIMEOUT_MS = 10_000;

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

  async function call(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; data: unknown }> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${await serviceToken()}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw unavailable("submission-service is unavailable", error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw unavailable("submission-service answered with invalid JSON", error);
    }
    const envelope = envelopeSchema.safeParse(parsed);
    if (!envelope.success) throw unavailable("submission-service answered without the envelope", envelope.error, { upstreamStatus: response.status });
    return { status: response.status, data: envelope.data.success ? envelope.data.data : undefined };
  }

  return {
    async rejudge(problemId, requestedBy) {
      const answer = await call("POST", `/internal/v1/problems/${encodeURIComponent(problemId)}/rejudge`, requestedBy === undefined ? {} : { requestedBy });
      if (answer.status !== 202) throw unavailable(`submission-service answered ${answer.status}`, undefined, { upstreamStatus: answer.status });
      const result = rejudgeResultSchema.safeParse(answer.data);
      if (!result.success) throw unavailable("submission-service answered with an unexpected rejudge shape", result.error);
      return result.data;
    },
    async find(rejudgeId) {
      const answer = await call("GET", `/internal/v1/rejudges/${encodeURIComponent(rejudgeId)}`);
      if (answer.status === 404) return null;
      if (answer.status !== 200) throw unavailable(`submission-service answered ${answer.status}`, undefined, { upstreamStatus: answer.status });
      const result = rejudgeSchema.safeParse(answer.data);
      if (!result.success) throw unavailable("submission-service answered with an unexpected rejudge shape", result.error);
      return result.data;
    },
  };
}
