import { DEFAULT_CHECKER, JUDGE_DEFAULTS, type JudgingProblem, type Submission, type SubmissionJob } from "@sonocode/contracts";
import { buildSource } from "./source.builder.js";

/** The stored fields a job is built from: the same at POST time and when the reconciler re-drives it. */
export type JobSubmission = Pick<Submission, "_id" | "userId" | "problemId" | "language" | "code" | "rejudgeGeneration">;

/**
 * The one place a SubmissionQueue payload is assembled from a problem and a
 * submission. SubmissionsService.create() calls it with the problem it just
 * loaded; the reconciler calls it with the problem loaded again (a lost job
 * has no payload to replay), so what the evaluator receives cannot differ
 * between the two paths.
 */
/**
 * The job names the problem's test set by content hash (a few KiB of Redis
 * whatever the problem's size); evaluators fetch the tests from problem-service.
 */
export function buildSubmissionJob(problem: JudgingProblem, submission: JobSubmission): SubmissionJob {
  // A language's own limits (e.g. more time for Python) override the problem's, field by field.
  const own = problem.languageLimits?.[submission.language];
  return {
    submissionId: submission._id,
    userId: submission.userId,
    problemId: submission.problemId,
    language: submission.language,
    source: buildSource(problem, submission.language, submission.code),
    testSet: { problemId: problem._id, hash: problem.testSet.hash, count: problem.testSet.count },
    timeLimitMs: own?.timeLimitMs ?? problem.timeLimitMs ?? JUDGE_DEFAULTS.timeLimitMs,
    memoryLimitMb: own?.memoryLimitMb ?? problem.memoryLimitMb ?? JUDGE_DEFAULTS.memoryLimitMb,
    checker: problem.checker ?? DEFAULT_CHECKER,
    runAllTests: problem.runAllTests ?? false,
    // Which judging of the submission this is: its progress and result name it back (rejudges).
    generation: submission.rejudgeGeneration ?? 0,
  };
}
