import { DEFAULT_MAX_CODE_BYTES } from "@sonocode/contracts";
import { baseEnvSchema, portsEnvSchema, storeEnvSchema } from "@sonocode/config";
import { z } from "zod";
import { DEFAULT_RESULT_CONCURRENCY } from "./workers/results.consumer.js";

/** Everything submission-service reads from the environment, parsed once in main.ts. */
export const submissionEnvSchema = baseEnvSchema
  .extend(storeEnvSchema.shape)
  .extend(portsEnvSchema.shape)
  .extend({
    PROBLEM_SERVICE_URL: z.url().default("http://127.0.0.1:4001"),
    /** Largest accepted code in bytes; the HTTP body limit is derived from it. */
    MAX_CODE_BYTES: z.coerce.number().int().min(1_024).max(8 * 1024 * 1024).default(DEFAULT_MAX_CODE_BYTES),
    /** Evaluation results processed at once (each is a small database write). */
    RESULT_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(DEFAULT_RESULT_CONCURRENCY),
  });
export type SubmissionEnv = z.output<typeof submissionEnvSchema>;
