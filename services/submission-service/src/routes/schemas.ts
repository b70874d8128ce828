import {
  createdSubmissionSchema,
  envelopeSchema,
  objectIdSchema,
  pageInfoSchema,
  submissionListQuerySchema,
  submissionSchema,
  submissionSummarySchema,
  LANGUAGES,
} from "@sonocode/contracts";
import { z } from "zod";

/** Every error body: the envelope with an error code and empty data. */
export const errorEnvelopeSchema = envelopeSchema(z.object({}));

/**
 * POST body. `language` is a free string here (bounded) rather than the enum,
 * so an unknown language gets its own code, UNSUPPORTED_LANGUAGE, with the
 * supported list, instead of a generic validation failure. Unknown keys (such
 * as a client-sent userId) are stripped: the owner comes from the token.
 */
export const createSubmissionBodySchema = z.object({
  problemId: objectIdSchema,
  language: z.string().min(1).max(64).describe(`one of ${LANGUAGES.join(", ")} (case-insensitive)`),
  code: z.string().min(1, "code must not be empty").describe("the user's code; wrapped in the problem's stub for the language, if any"),
});

export const submissionIdParamsSchema = z.object({ id: objectIdSchema });

export const listQuerySchema = submissionListQuerySchema;

export const createdResponseSchema = envelopeSchema(z.object({ submission: createdSubmissionSchema }));
export const submissionResponseSchema = envelopeSchema(submissionSchema);
export const submissionListResponseSchema = envelopeSchema(
  z.object({ submissions: z.array(submissionSummarySchema), pagination: pageInfoSchema }),
);

export const healthDataSchema = z.object({
  status: z.enum(["ok", "down"]),
  checks: z.record(z.string(), z.string()),
});
export const healthResponseSchema = envelopeSchema(healthDataSchema);
export const pingResponseSchema = envelopeSchema(z.object({ pong: z.literal(true) }));
