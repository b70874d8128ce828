import { z } from "zod";
import { sandboxEnvSchema } from "@sonocode/config";
import { submissionEnvSchema } from "@sonocode/submission-service";

/**
 * Embedded mode reads every service's variables (see .env.example): submission-service's
 * schema already holds the shared, store and port ones; the sandbox ones are the evaluator's.
 */
export const platformEnvSchema = submissionEnvSchema.extend(sandboxEnvSchema.shape).extend({
  SEED: z.stringbool().default(true),
});
export type PlatformEnv = z.output<typeof platformEnvSchema>;
