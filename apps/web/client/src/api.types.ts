// Shapes of the API as the app reads them, from @sonocode/contracts (types only: nothing of
// zod reaches the bundle). Fields a deployment may not have yet (stats, percentile, score,
// groups) are optional there and shown only when present.
import type { ProblemStats, PublicProblem } from "@sonocode/contracts";

export type {
  CodeStub,
  Difficulty,
  GroupResult,
  Language,
  PageInfo,
  ProblemInput,
  Run as RunView,
  RunTestResult,
  SocketProgressPayload as ProgressEvent,
  Submission as SubmissionView,
  SubmissionSummary as SubmissionSummaryView,
} from "@sonocode/contracts";

/** A problem as any reader gets it; admins get every test (hidden ones too) and the reference solution. */
export type ProblemView = Omit<PublicProblem, "testCases" | "totalTestCases"> & {
  testCases: { input: string; output: string; hidden: boolean; group?: string | undefined }[];
  /** Absent in the admin view, which has every test. */
  totalTestCases?: number | undefined;
  stats?: ProblemStats | undefined;
  referenceSolution?: { language: string; code: string } | undefined;
};
