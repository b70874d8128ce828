import { z } from "zod";
import { isoDateSchema, objectIdSchema } from "./common.js";
import { languageInputSchema, languageSchema } from "./languages.js";
import { finalStatusSchema, submissionStatusSchema, testStatusSchema } from "./statuses.js";
import { isStorableText } from "./storable-text.js";
import { groupResultSchema, percentileSchema } from "./scoring.js";

/** Text every store accepts (no NUL, no lone surrogate): see storableText(). */
export const storableStringSchema = z.string().refine(isStorableText, { message: "text a database cannot store (NUL or a lone surrogate); pass it through storableText()" });

/** Default cap on submitted code; the HTTP body limit is derived from it (413 beyond). */
export const DEFAULT_MAX_CODE_BYTES = 64 * 1024;

/** Body of POST /api/v1/submissions. The user id comes from the token, never from the body. */
export const submissionInputSchema = z.object({
  problemId: objectIdSchema,
  language: languageInputSchema,
  code: z.string().min(1, "code must not be empty"),
});
export type SubmissionInput = z.infer<typeof submissionInputSchema>;

export const testResultSchema = z.object({
  index: z.number().int().min(0),
  status: testStatusSchema,
  timeMs: z.number().int().min(0),
  wallTimeMs: z.number().int().min(0).optional(),
  memoryKb: z.number().int().min(0),
  /** RE: the signal that killed the program (e.g. "SIGSEGV") or the exit code. */
  signal: storableStringSchema.optional(),
  exitCode: z.number().int().optional(),
  /** Partial credit in [0, 1] a custom checker gave (testlib exit 7); absent for a plain accept or reject. */
  score: z.number().min(0).max(1).optional(),
  /** A custom checker's message (its stderr, capped); visible tests only. */
  checkerMessage: storableStringSchema.optional(),
});
export type TestResult = z.infer<typeof testResultSchema>;

/** Shown only when the failing test is not hidden; long texts are truncated for display. */
export const failedTestSchema = z.object({
  index: z.number().int().min(0),
  input: storableStringSchema,
  expected: storableStringSchema,
  actual: storableStringSchema,
});
export type FailedTest = z.infer<typeof failedTestSchema>;

/** The verdict part of a submission, as the evaluator reports it. */
export const verdictFieldsSchema = z.object({
  status: finalStatusSchema,
  passed: z.number().int().min(0),
  total: z.number().int().min(0),
  timeMs: z.number().int().min(0).nullable(),
  memoryKb: z.number().int().min(0).nullable(),
  results: z.array(testResultSchema),
  compileOutput: storableStringSchema.nullable(),
  failedTest: failedTestSchema.nullable(),
  /** Human-readable note (IE reason, RE signal); never user code, never host paths. */
  message: storableStringSchema.nullable().optional(),
  /** Sum of the groups' earned points, or 100 × passed / total without groups; absent when not judged (IE). */
  score: z.number().min(0).optional(),
  /** Per subtask, in declaration order; only for problems with groups. */
  groups: z.array(groupResultSchema).optional(),
});
export type VerdictFields = z.infer<typeof verdictFieldsSchema>;

/** The stored document and the body of GET /api/v1/submissions/:id. */
export const submissionSchema = z.object({
  _id: objectIdSchema,
  userId: z.string(),
  problemId: objectIdSchema,
  language: languageSchema,
  code: z.string(),
  status: submissionStatusSchema,
  passed: z.number().int().min(0),
  total: z.number().int().min(0),
  timeMs: z.number().int().min(0).nullable(),
  memoryKb: z.number().int().min(0).nullable(),
  results: z.array(testResultSchema),
  compileOutput: z.string().nullable(),
  failedTest: failedTestSchema.nullable(),
  message: z.string().nullable().optional(),
  score: z.number().min(0).optional(),
  groups: z.array(groupResultSchema).optional(),
  /** GET /api/v1/submissions/:id of a Success submission only (computed on read, never stored). */
  percentile: percentileSchema.optional(),
  /** Rejudge: the last final status before the latest rejudge (null: it had none yet); absent when never rejudged. */
  previousStatus: finalStatusSchema.nullable().optional(),
  /** When the latest rejudge moved it back to Pending; absent when never rejudged. */
  rejudgedAt: isoDateSchema.nullable().optional(),
  /** How many times it was rejudged (0 or absent: never); a client dedupes final events by _id and this. */
  rejudgeGeneration: z.number().int().min(0).optional(),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
});
export type Submission = z.infer<typeof submissionSchema>;

/** What the store needs to create a Pending submission. */
export type NewSubmission = Pick<Submission, "userId" | "problemId" | "language" | "code" | "total">;

/** The 201 body's data.submission. */
export const createdSubmissionSchema = submissionSchema.pick({
  _id: true,
  userId: true,
  problemId: true,
  language: true,
  status: true,
  createdAt: true,
});

/** List items omit the code and per-test details. */
export const submissionSummarySchema = submissionSchema.omit({ code: true, results: true, failedTest: true, compileOutput: true, percentile: true });
export type SubmissionSummary = z.infer<typeof submissionSummarySchema>;

export const submissionListQuerySchema = z.object({
  problemId: objectIdSchema.optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type SubmissionListQuery = z.infer<typeof submissionListQuerySchema>;
