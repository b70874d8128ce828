import { z } from "zod";
import { objectIdSchema } from "./common.js";
import { languageSchema } from "./languages.js";
import { checkerSchema } from "./problem.js";
import { verdictFieldsSchema } from "./submission.js";
import { testSetRefSchema } from "./test-set-ref.js";
import { generationSchema } from "./rejudge.js";

/**
 * BullMQ queue names. Do not rename: producers and consumers in different
 * processes (and versions, during a rolling deploy) meet on these names.
 */
export const QUEUES = {
  submission: "SubmissionQueue",
  evaluation: "EvaluationQueue",
} as const;

/** Job names on EvaluationQueue. Do not rename. */
export const EVALUATION_JOBS = {
  progress: "progress",
  result: "result",
} as const;

/**
 * BullMQ options of an EvaluationQueue "result" job, for every producer (the evaluator, and the
 * reconciler and rejudge feeder when they give a submission up as IE). The result is the one
 * message that must arrive: the consumer may retry it (its database may be briefly down), and
 * failed ones are kept a week for inspection. No custom jobId on purpose: BullMQ silently drops
 * an add whose id still exists, so `result-${submissionId}` would swallow a rejudge's result
 * while the previous job is kept. Duplicates are harmless instead: the consumer's write is
 * idempotent (a final verdict never changes, a superseded generation's result is dropped).
 */
export const RESULT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/** Job name on SubmissionQueue (jobId = submissionId, so a submission is queued once). */
export const SUBMISSION_JOB = "evaluate" as const;

export const judgeTestCaseSchema = z.object({
  input: z.string(),
  output: z.string(),
  hidden: z.boolean(),
});

/** Which tests to judge against: the problem, its test set's content hash and size. */
export const submissionTestSetSchema = testSetRefSchema.extend({ problemId: objectIdSchema, count: z.number().int().min(1) });
export type SubmissionTestSet = z.infer<typeof submissionTestSetSchema>;

/**
 * Payload of a SubmissionQueue job: the program, its limits and a reference to the
 * problem's test set (never the tests themselves, so a job is a few KiB of Redis
 * whatever the problem's size). The evaluator fetches the tests by hash from
 * problem-service once and caches them on disk; it never reads the database.
 */
export const submissionJobSchema = z.object({
  submissionId: objectIdSchema,
  userId: z.string(),
  problemId: objectIdSchema,
  language: languageSchema,
  /** The whole program: the stub's startSnippet + user code + endSnippet. */
  source: z.string(),
  /** The problem's test set when the submission was made: what every producer sends. */
  testSet: submissionTestSetSchema.optional(),
  /**
   * Inline tests: only jobs queued before test-set references existed (a rolling deploy)
   * and tests that drive an evaluator directly carry them. Producers never send both.
   */
  testCases: z.array(judgeTestCaseSchema).min(1).optional(),
  timeLimitMs: z.number().int().positive(),
  memoryLimitMb: z.number().int().positive(),
  checker: checkerSchema,
  runAllTests: z.boolean(),
  /** The submission's rejudge generation this job judges (see rejudge.ts); progress and result carry it back. */
  generation: generationSchema.optional(),
}).refine((job) => (job.testSet === undefined) !== (job.testCases === undefined), {
  message: "a job carries exactly one of testSet (a reference) and testCases (inline, legacy)",
  path: ["testSet"],
});
export type SubmissionJob = z.infer<typeof submissionJobSchema>;

/** EvaluationQueue "progress" job: the evaluator started, or finished one more test. */
export const progressEventSchema = z.object({
  submissionId: objectIdSchema,
  userId: z.string(),
  status: z.literal("Running"),
  passed: z.number().int().min(0),
  total: z.number().int().min(0),
  generation: generationSchema.optional(),
});
export type ProgressEvent = z.infer<typeof progressEventSchema>;

/** EvaluationQueue "result" job: the final verdict of one submission. */
export const evaluationResultSchema = verdictFieldsSchema.extend({
  submissionId: objectIdSchema,
  userId: z.string(),
  /** The job's generation: a result of a superseded generation is dropped by the consumer. */
  generation: generationSchema.optional(),
});
export type EvaluationResult = z.infer<typeof evaluationResultSchema>;
