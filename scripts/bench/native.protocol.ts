// The lines native.ts and native.runner.ts exchange (one JSON object per line), parsed on both sides.
import { languageSchema } from "@sonocode/contracts";
import { z } from "zod";

export const nativeRequestSchema = z.object({
  language: languageSchema,
  source: z.string(),
  tests: z.array(z.object({ input: z.string(), output: z.string() })).min(1),
  memoryLimitMb: z.number().int().positive(),
});
export type NativeRequest = z.infer<typeof nativeRequestSchema>;

export const nativeResponseSchema = z.union([
  z.object({ ok: z.literal(true), compileMs: z.number(), runMs: z.array(z.number()), totalMs: z.number() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type NativeResponse = z.infer<typeof nativeResponseSchema>;

/** The runner's first line, once its mounts are in place. */
export const nativeReadySchema = z.object({ ready: z.literal(true), root: z.string(), execFloorMs: z.number() });
