import { z } from "zod";
import { evaluatorEnvSchema, jwtSecretSchema, sandboxEnvSchema, testSetEnvSchema } from "@sonocode/config";
import { submissionEnvSchema } from "@sonocode/submission-service";

/**
 * Embedded mode reads every service's variables (see .env.example): submission-service's
 * schema already holds the shared, store and port ones; the sandbox, test-set and EVALUATOR_*
 * ones are the evaluator child's (passed to it explicitly, it reads no environment).
 */
export const platformEnvSchema = submissionEnvSchema
  .extend(sandboxEnvSchema.shape)
  .extend(evaluatorEnvSchema.shape)
  .extend(testSetEnvSchema.omit({ PROBLEM_SERVICE_URL: true }).shape)
  .extend({
  SEED: z.stringbool().default(true),
  /** Optional here only: unset (or empty), the launcher generates one and keeps it in DATA_DIR/jwt-secret. */
  JWT_SECRET: z
    .string()
    .optional()
    .transform((value) => (value ? value : undefined))
    .pipe(jwtSecretSchema.optional()),
});
export type PlatformEnv = z.output<typeof platformEnvSchema>;
