import { UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";

/**
 * How a job whose sandbox broke is retried. This is the evaluator's own budget, separate from
 * the producer's `attempts` (which covers everything else that can throw): the submission is
 * fine, so it is put back with back-off for any evaluator to take, and becomes IE only after
 * `attempts` sandbox failures. It must exceed the failure threshold that takes a broken
 * evaluator out of rotation, so one broken evaluator alone can never use up a job's budget.
 */
export interface SandboxRetryPolicy {
  /** Sandbox failures a job may have before it is IE. */
  attempts: number;
  /** Delay after the first failure; doubles after each further one. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_SANDBOX_RETRY: SandboxRetryPolicy = { attempts: 5, backoffMs: 1_000, maxBackoffMs: 30_000 };

/** Delay before the next try after `failures` (>= 1) sandbox failures. */
export function sandboxRetryDelay(policy: SandboxRetryPolicy, failures: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, failures - 1));
}

/** The sandbox kept failing on every evaluator that tried: the job fails for good (and is reported IE). */
export class SandboxAttemptsExhaustedError extends UnrecoverableError {
  override name = "SandboxAttemptsExhaustedError";
}

/** Sandbox failures per job, shared by every evaluator (a retry may land anywhere). */
export interface SandboxFailureCounter {
  /** Counts one more failure of this job; resolves the new total. */
  increment(jobId: string): Promise<number>;
  clear(jobId: string): Promise<void>;
}

/**
 * A counter key next to the queue, not in the job: the payload is the submission-service's
 * contract and BullMQ's own attempt counters also move on stalls. The key expires on its own
 * (a job that vanished mid-retry leaves nothing behind for long) and is deleted when the job ends.
 */
export function createRedisSandboxFailureCounter(redis: Redis, prefix: string, ttlSeconds = 24 * 3600): SandboxFailureCounter {
  const key = (jobId: string) => `${prefix}:evaluator:sandbox-failures:${jobId}`;
  return {
    async increment(jobId) {
      const replies = await redis.multi().incr(key(jobId)).expire(key(jobId), ttlSeconds).exec();
      const [error, count] = replies?.[0] ?? [new Error("no reply from redis"), null];
      if (error) throw error;
      return Number(count);
    },
    async clear(jobId) {
      await redis.del(key(jobId));
    },
  };
}
