import { serviceTokenSource } from "@sonocode/auth";
import { TEST_SET_CHANGED, testSetHashSchema, testSetSchema, type TestSet } from "@sonocode/contracts";
import { z } from "zod";

/** problem-service could not be asked (down, timed out, answered garbage): worth retrying later. */
export class TestSetUnavailableError extends Error {
  override name = "TestSetUnavailableError";
}

export type TestSetFetch =
  | { kind: "found"; testSet: TestSet }
  /** The problem was edited: it no longer has this hash. */
  | { kind: "changed"; currentHash: string }
  /** The problem is gone. */
  | { kind: "gone" };

export interface TestSetClient {
  fetch(problemId: string, hash: string): Promise<TestSetFetch>;
}

export interface TestSetClientOptions {
  baseUrl: string;
  jwtSecret: string;
  /** A whole test set may be megabytes: generous, but bounded. */
  timeoutMs?: number;
}

const envelopeSchema = z.object({ success: z.boolean(), data: z.unknown(), error: z.unknown() });
const changedSchema = z.object({ code: z.literal("CONFLICT"), details: z.object({ reason: z.literal(TEST_SET_CHANGED), currentHash: testSetHashSchema }) });

/** GET /internal/v1/problems/:id/test-set/:hash with a short-lived `service` token. */
export function createTestSetClient(options: TestSetClientOptions): TestSetClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const serviceToken = serviceTokenSource("evaluator-service", options.jwtSecret);
  return {
    async fetch(problemId, hash) {
      const url = `${baseUrl}/internal/v1/problems/${encodeURIComponent(problemId)}/test-set/${encodeURIComponent(hash)}`;
      let status: number;
      let body: unknown;
      try {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${await serviceToken()}`, accept: "application/json" },
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = response.status;
        body = JSON.parse(await response.text());
      } catch (error) {
        throw new TestSetUnavailableError("problem-service is unavailable", { cause: error });
      }
      const envelope = envelopeSchema.safeParse(body);
      if (status === 404) return { kind: "gone" };
      if (status === 409 && envelope.success) {
        const changed = changedSchema.safeParse(envelope.data.error);
        if (changed.success) return { kind: "changed", currentHash: changed.data.details.currentHash };
      }
      const testSet = status === 200 && envelope.success ? testSetSchema.safeParse(envelope.data.data) : null;
      if (!testSet?.success) throw new TestSetUnavailableError(`problem-service answered ${status} with an unexpected body`);
      return { kind: "found", testSet: testSet.data };
    },
  };
}
