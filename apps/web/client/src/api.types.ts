// Shapes of the API as the app reads them, from @sonocode/contracts (types only: nothing of
// zod reaches the bundle). Fields a deployment may not have yet (stats, percentile, score,
// groups) are optional there and shown only when present.
import type { ProblemStats, PublicProblem, Submission } from "@sonocode/contracts";

export type {
  CodeStub,
  Difficulty,
  GroupResult,
  Language,
  PageInfo,
  ProblemInput,
  Run as RunView,
  RunResultEvent,
  RunTestResult,
  SocketProgressPayload as ProgressEvent,
  Submission as SubmissionView,
  SubmissionSummary as SubmissionSummaryView,
} from "@sonocode/contracts";

/** What a verdict is shown from: a read of the submission, or its final socket event (which has no code). */
export type VerdictSource = Omit<Submission, "code">;

/** A problem as any reader gets it; admins get every test (hidden ones too) and the reference solution. */
export type ProblemView = Omit<PublicProblem, "testCases" | "totalTestCases"> & {
  testCases: { input: string; output: string; hidden: boolean; group?: string | undefined }[];
  /** Absent in the admin view, which has every test. */
  totalTestCases?: number | undefined;
  stats?: ProblemStats | undefined;
  referenceSolution?: { language: string; code: string } | undefined;
};
