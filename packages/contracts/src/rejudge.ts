import { z } from "zod";
import { isoDateSchema, objectIdSchema } from "./common.js";

/**
 * Rejudge: every submission of a problem judged again (after its tests or checker were fixed).
 * A rejudge moves a submission back to Pending and bumps its generation; each generation is
 * its own SubmissionQueue job and its results name the generation they belong to, so a late
 * result of a superseded generation can never overwrite the new verdict.
 */

/**
 * A rejudge request: the durable record POST /api/v1/problems/:id/rejudge leaves behind.
 * Marking (moving the problem's submissions back to Pending for a new generation) proceeds in
 * the background, a page at a time, from this record's position in the database, so it
 * survives a restart of submission-service; `marked` once every submission was moved.
 */
export const REJUDGE_STATES = ["marking", "marked"] as const;
export type RejudgeState = (typeof REJUDGE_STATES)[number];

export const rejudgeSchema = z.object({
  _id: objectIdSchema,
  problemId: objectIdSchema,
  status: z.enum(REJUDGE_STATES),
  /** The problem's submissions when the rejudge was requested: each is judged again. */
  queued: z.number().int().min(0),
  /** Moved back to Pending so far (queued once the status is marked, less any a later rejudge took over first). */
  marked: z.number().int().min(0),
  /** Of those, the ones still waiting for (or in) their new judging. */
  pending: z.number().int().min(0),
  /** The admin who asked (a token's sub), when known. */
  requestedBy: z.string().nullable(),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
  /** When the last page was marked (null while marking). */
  markedAt: isoDateSchema.nullable(),
});
export type Rejudge = z.infer<typeof rejudgeSchema>;

/**
 * 202 body (`data`) of POST /api/v1/problems/:id/rejudge and of the internal route behind it:
 * the rejudge, and whether this request started it (false: one was already marking this
 * problem, and that one is returned instead of starting another, so a retried request is harmless).
 */
export const rejudgeResultSchema = rejudgeSchema.extend({ created: z.boolean() });
export type RejudgeResult = z.infer<typeof rejudgeResultSchema>;

/** Body of the internal POST (optional): who asked, for the record. */
export const rejudgeRequestBodySchema = z.object({ requestedBy: z.string().min(1).max(200).optional() }).strict();
export type RejudgeRequestBody = z.infer<typeof rejudgeRequestBodySchema>;

/**
 * The SubmissionQueue jobId of one generation of a submission. Generation 0 (never rejudged)
 * keeps jobId = submissionId; a rejudge gets a fresh id, so BullMQ does not take its add for
 * a duplicate of the finished first job. BullMQ refuses ':' in custom ids, hence '-r'.
 */
export function submissionJobId(submissionId: string, generation = 0): string {
  return generation === 0 ? submissionId : `${submissionId}-r${generation}`;
}

/** Which judging a job, progress event or result belongs to: absent = sent by a version without rejudges. */
export const generationSchema = z.number().int().min(0);
