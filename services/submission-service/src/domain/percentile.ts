import { percentileOf, type Submission } from "@sonocode/contracts";
import type { Store } from "@sonocode/store";

/**
 * "Beats x %" for an accepted submission (issue 10): computed on read from the stored figures
 * (one index range scan over the accepted submissions of its problem and language, see
 * SubmissionRepository.acceptedComparison), never stored, so it follows later submissions.
 * Any other submission is returned as it is.
 */
export async function withPercentile(store: Pick<Store, "submissions">, submission: Submission): Promise<Submission> {
  if (submission.status !== "Success" || submission.timeMs === null || submission.memoryKb === null) return submission;
  const comparison = await store.submissions.acceptedComparison({
    problemId: submission.problemId,
    language: submission.language,
    timeMs: submission.timeMs,
    memoryKb: submission.memoryKb,
  });
  return { ...submission, percentile: percentileOf(comparison) };
}
