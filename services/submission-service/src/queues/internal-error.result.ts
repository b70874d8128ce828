import { EVALUATION_JOBS, RESULT_JOB_OPTIONS, evaluationResultSchema, type Submission } from "@sonocode/contracts";
import type { Queue } from "bullmq";
import { internalErrorVerdict } from "../domain/internal-error.verdict.js";

/**
 * Gives a submission up as IE (the reconciler after its re-drives, the rejudge feeder after its
 * attempts, either when the problem is gone) by queuing the verdict on EvaluationQueue as the
 * result of the judging it ends, for the results consumer to write and announce like any
 * verdict. Nothing is written here, so nothing is owed by this process: the consumer parks a
 * result while the database is away or the final event cannot be appended, and its replay
 * finishes the job, whichever process queued it and whether or not that one is still alive.
 * When the add itself fails (Redis away) the row is still Pending/Running, so the next tick
 * finds it and gives it up again; an IE queued twice is written once (a final verdict never
 * changes, and the generation drops it once a rejudge has superseded that judging).
 */
export async function queueInternalError(
  evaluationQueue: Queue,
  submission: Pick<Submission, "_id" | "userId" | "total" | "rejudgeGeneration">,
  message: string,
): Promise<void> {
  const result = evaluationResultSchema.parse({
    submissionId: submission._id,
    userId: submission.userId,
    generation: submission.rejudgeGeneration ?? 0,
    ...internalErrorVerdict(submission.total, message),
  });
  await evaluationQueue.add(EVALUATION_JOBS.result, result, RESULT_JOB_OPTIONS);
}
