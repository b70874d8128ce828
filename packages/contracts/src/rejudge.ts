import { z } from "zod";

/**
 * Rejudge: every submission of a problem judged again (after its tests or checker were fixed).
 * A rejudge moves a submission back to Pending and bumps its generation; each generation is
 * its own SubmissionQueue job and its results name the generation they belong to, so a late
 * result of a superseded generation can never overwrite the new verdict.
 */

/** 202 body (`data`) of POST /api/v1/problems/:id/rejudge, and of the internal route behind it. */
export const rejudgeResultSchema = z.object({
  /** Submissions moved back to Pending by this request (each is judged again, in the background). */
  queued: z.number().int().min(0),
});
export type RejudgeResult = z.infer<typeof rejudgeResultSchema>;

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
