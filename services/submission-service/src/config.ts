import { DEFAULT_MAX_CODE_BYTES } from "@sonocode/contracts";
import { baseEnvSchema, portsEnvSchema, storeEnvSchema } from "@sonocode/config";
import { z } from "zod";
import { PROBLEM_CACHE_DEFAULTS } from "./clients/problem-cache.client.js";
import { SUBMISSION_LIMIT_DEFAULTS } from "./domain/submission-limits.js";
import { DEFAULT_RESULT_CONCURRENCY } from "./workers/results.consumer.js";
import { REJUDGE_FEEDER_DEFAULTS } from "./rejudge/rejudge.feeder.js";
import { RECONCILER_DEFAULTS } from "./workers/submission.reconciler.js";

/** Everything submission-service reads from the environment, parsed once in main.ts. */
export const submissionEnvSchema = baseEnvSchema
  .extend(storeEnvSchema.shape)
  .extend(portsEnvSchema.shape)
  .extend({
    PROBLEM_SERVICE_URL: z.url().default("http://127.0.0.1:4001"),
    /** Longest a cached judging view is trusted without hearing from problem-service (0 = no cache). */
    PROBLEM_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(PROBLEM_CACHE_DEFAULTS.ttlMs),
    /** Judging views kept per replica (least recently used go first). */
    PROBLEM_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).max(1_000_000).default(PROBLEM_CACHE_DEFAULTS.maxEntries),
    /** Largest accepted code in bytes; the HTTP body limit is derived from it. */
    MAX_CODE_BYTES: z.coerce.number().int().min(1_024).max(8 * 1024 * 1024).default(DEFAULT_MAX_CODE_BYTES),
    /** Evaluation results processed at once (each is a small database write). */
    RESULT_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(DEFAULT_RESULT_CONCURRENCY),
    /** How often the reconciler looks for submissions nobody owns (one replica acts per period). */
    RECONCILE_PERIOD_MS: z.coerce.number().int().min(100).max(3_600_000).default(RECONCILER_DEFAULTS.periodMs),
    /** A submission younger than this is never touched (its POST may still be enqueueing). */
    RECONCILE_GRACE_MS: z.coerce.number().int().min(500).max(86_400_000).default(RECONCILER_DEFAULTS.graceMs),
    /** Submissions per user per minute, counted in Redis across replicas (admins exempt; 0 = off). */
    SUBMISSION_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(100_000).default(SUBMISSION_LIMIT_DEFAULTS.perMinute),
    /** Pending/Running submissions per user at once (admins exempt; 0 = off). */
    SUBMISSION_MAX_IN_FLIGHT: z.coerce.number().int().min(0).max(10_000).default(SUBMISSION_LIMIT_DEFAULTS.maxInFlight),
    /** Re-drives of a lost job before the submission is made IE. */
    RECONCILE_MAX_ATTEMPTS: z.coerce.number().int().min(0).max(100).default(RECONCILER_DEFAULTS.maxRedrives),
    /** Judgings of one rejudge (per submission and generation) that finish without a stored result before it is made IE. */
    REJUDGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(REJUDGE_FEEDER_DEFAULTS.maxAttempts),
  });
export type SubmissionEnv = z.output<typeof submissionEnvSchema>;
