import { signToken } from "@sonocode/auth";
import { problemSchema, type Problem } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { z } from "zod";

/** The one thing submission-service needs from problem-service. */
export interface ProblemClient {
  /** The admin view of a problem (hidden tests included), or null when it does not exist. */
  getProblem(id: string): Promise<Problem | null>;
}

export interface ProblemClientOptions {
  baseUrl: string;
  jwtSecret: string;
  /** Per request; a slow problem-service must not hold submissions open. */
  timeoutMs?: number;
}

export const DEFAULT_PROBLEM_CLIENT_TIMEOUT_MS = 5_000;

/** Lifetime of the service token; it is re-minted a minute before it expires. */
const SERVICE_TOKEN_TTL_SECONDS = 10 * 60;
const SERVICE_TOKEN_REFRESH_MARGIN_MS = 60_000;

const envelopeSchema = z.object({ success: z.boolean(), data: z.unknown() });

/** details.component names what is down, so a 503 from here is never mistaken for our own database or Redis. */
function unavailable(message: string, cause?: unknown, details: Record<string, unknown> = {}): AppError {
  return new AppError("DEPENDENCY_UNAVAILABLE", message, { cause, details: { component: "problem-service", ...details }, retryAfterSeconds: 5 });
}

/**
 * Reads problems over HTTP with a short-lived admin token: the admin view is the
 * only one that carries hidden test cases, which the judge needs. The response
 * is re-parsed with the contract's schema: another service's bytes are input.
 */
export function createProblemClient(options: ProblemClientOptions): ProblemClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBLEM_CLIENT_TIMEOUT_MS;
  let cached: { token: string; refreshAt: number } | null = null;
  let minting: Promise<string> | null = null;

  async function serviceToken(): Promise<string> {
    if (cached && Date.now() < cached.refreshAt) return cached.token;
    // Concurrent requests share one signing instead of each minting a token.
    minting ??= signToken({ sub: "submission-service", role: "admin" }, options.jwtSecret, `${SERVICE_TOKEN_TTL_SECONDS}s`)
      .then((token) => {
        cached = { token, refreshAt: Date.now() + SERVICE_TOKEN_TTL_SECONDS * 1000 - SERVICE_TOKEN_REFRESH_MARGIN_MS };
        return token;
      })
      .finally(() => {
        minting = null;
      });
    return minting;
  }

  return {
    async getProblem(id: string): Promise<Problem | null> {
      const url = `${baseUrl}/api/v1/problems/${encodeURIComponent(id)}`;
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
      const problem = envelope.success && envelope.data.success ? problemSchema.safeParse(envelope.data.data) : null;
      if (!problem?.success) {
        throw unavailable("problem-service answered with an unexpected problem shape", problem?.error);
      }
      return problem.data;
    },
  };
}
