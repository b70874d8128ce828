import { z } from "zod";
import { DEFAULT_MAX_CODE_BYTES } from "@sonocode/contracts";
import { baseEnvSchema, portsEnvSchema, sandboxEnvSchema, storeEnvSchema } from "@sonocode/config";

/** Embedded mode reads the union of every service's variables (see .env.example). */
export const platformEnvSchema = baseEnvSchema
  .extend(storeEnvSchema.shape)
  .extend(portsEnvSchema.shape)
  .extend(sandboxEnvSchema.shape)
  .extend({
    MAX_CODE_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024).default(DEFAULT_MAX_CODE_BYTES),
    SEED: z.stringbool().default(true),
  });
export type PlatformEnv = z.output<typeof platformEnvSchema>;
