// Shapes of the API as the app reads them. Everything that exists in @sonocode/contracts is
// imported from there (types only: nothing of zod reaches the bundle); fields other helpers
// are adding right now (issue 10: runs, stats, percentile, score, groups) are declared here,
// optional, as the issue specifies them, until contracts exports them.
import type { PublicProblem, Submission, SubmissionSummary, TestStatus } from "@sonocode/contracts";

export type { CodeStub, Difficulty, Language, PageInfo, Problem, ProblemInput, PublicProblem, Submission, SubmissionStatus, SubmissionSummary, TestCase } from "@sonocode/contracts";

export interface ProblemStats {
  submissions: number;
  accepted: number;
  acceptanceRate: number;
}

/** A problem as any reader gets it; admins additionally get hidden tests and the reference solution. */
export type ProblemView = Omit<PublicProblem, "testCases"> & {
  testCases: { input: string; output: string; hidden: boolean; group?: string | undefined }[];
  stats?: ProblemStats | undefined;
  referenceSolution?: { language: string; code: string } | undefined;
};

export interface GroupResult {
  name: string;
  points: number;
  earned: number;
  status: string;
}

export interface VerdictExtras {
  percentile?: { timeMs?: number | null; memoryKb?: number | null } | null | undefined;
  score?: number | null | undefined;
  groups?: GroupResult[] | null | undefined;
}

export type SubmissionView = Submission & VerdictExtras;
export type SubmissionSummaryView = SubmissionSummary & VerdictExtras;

export interface RunResult {
  index: number;
  input: string;
  output: string;
  expected: string | null;
  status: TestStatus | string;
  timeMs: number;
  memoryKb: number;
  checkerMessage?: string | undefined;
}

/** GET /api/v1/runs/:id and the socket event run:result (issue 10). */
export interface RunView {
  _id: string;
  status: string;
  compileOutput?: string | null | undefined;
  message?: string | null | undefined;
  results: RunResult[];
}

export interface ProgressEvent {
  submissionId: string;
  status: "Running";
  passed: number;
  total: number;
}
