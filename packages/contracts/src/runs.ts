// "Run code": a program run on the problem's visible tests or on the caller's own input,
// judged against the visible answers or against the output of the problem's reference
// solution on that input. Runs are scratch work: kept 24 h, never in problem statistics.
import { z } from "zod";
import { isoDateSchema, objectIdSchema } from "./common.js";
import { checkerSchema } from "./checker.js";
import { languageSchema } from "./languages.js";
import { finalStatusSchema, submissionStatusSchema, testStatusSchema } from "./statuses.js";
import { storableStringSchema } from "./submission.js";
import { submissionTestSetSchema } from "./queues.js";

/** Largest custom input, in UTF-8 bytes (400 beyond). */
export const MAX_RUN_INPUT_BYTES = 64 * 1024;
/** Each shown text of a run (input, output, expected) is cut to this many UTF-8 bytes. */
export const RUN_TEXT_CAP_BYTES = 64 * 1024;
/** How long a run is kept (then deleted). */
export const RUN_RETENTION_MS = 24 * 3_600_000;

/** Job name on SubmissionQueue for a run (submissions use SUBMISSION_JOB). Do not rename. */
export const RUN_JOB = "run" as const;
/** Job name on EvaluationQueue for a run's final result. Do not rename. */
export const RUN_RESULT_JOB = "run-result" as const;

/**
 * BullMQ options of a RUN_RESULT_JOB, for every producer (the evaluator, and the run sweep when it
 * gives a run up as IE past its deadline): the result must arrive (the consumer may wait out a
 * database outage); kept briefly after.
 */
export const RUN_RESULT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 1_000 },
  removeOnFail: { age: 24 * 3_600 },
} as const;

/** BullMQ job id of a run (a run id alone could collide with nothing, but the prefix says what it is in tooling). */
export function runJobId(runId: string): string {
  return `run-${runId}`;
}

/** Body of POST /api/v1/runs. The owner comes from the token. */
export const runInputSchema = z.object({
  problemId: objectIdSchema,
  language: z.string().min(1).max(64),
  code: z.string().min(1, "code must not be empty"),
  /** Absent: the problem's visible tests. Present: this input alone (≤ MAX_RUN_INPUT_BYTES). */
  input: storableStringSchema.optional(),
});
export type RunInput = z.infer<typeof runInputSchema>;

/** One test of a run, as its owner reads it. `expected` is null when nothing to compare with exists. */
export const runTestResultSchema = z.object({
  index: z.number().int().min(0),
  input: storableStringSchema,
  output: storableStringSchema,
  expected: storableStringSchema.nullable(),
  status: testStatusSchema,
  timeMs: z.number().int().min(0),
  memoryKb: z.number().int().min(0),
  checkerMessage: storableStringSchema.optional(),
});
export type RunTestResult = z.infer<typeof runTestResultSchema>;

/** What the judge returns for a run and the evaluator reports. */
export const runVerdictSchema = z.object({
  status: finalStatusSchema,
  compileOutput: storableStringSchema.nullable(),
  results: z.array(runTestResultSchema),
  /** Human-readable note (CE, IE reason, a reference solution that failed on the input); never host paths. */
  message: storableStringSchema.nullable(),
});
export type RunVerdict = z.infer<typeof runVerdictSchema>;

/** The stored run and the body (data) of GET /api/v1/runs/:id. */
export const runSchema = z.object({
  _id: objectIdSchema,
  userId: z.string(),
  problemId: objectIdSchema,
  language: languageSchema,
  status: submissionStatusSchema,
  compileOutput: z.string().nullable(),
  results: z.array(runTestResultSchema),
  message: z.string().nullable(),
  /** Not final by then: the run is made IE (its evaluator was lost). */
  deadlineAt: isoDateSchema,
  /** Deleted after this. */
  expiresAt: isoDateSchema,
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
});
export type Run = z.infer<typeof runSchema>;

/**
 * The run:result socket event: the stored run without its texts (each test's input, output and
 * expected, and the compiler output: each up to RUN_TEXT_CAP_BYTES, so a run on many visible
 * tests made one user-events stream entry of several MB, and the stream caps entries, not
 * bytes). Kept: ids, status, the run's message and per test its status, time, memory and
 * checker message. A tab that shows the texts reads GET /api/v1/runs/:id (owner only) on the
 * event. Strict, so a producer that puts a text back is refused.
 */
export const runResultEventSchema = runSchema
  .omit({ compileOutput: true, results: true })
  .extend({ results: z.array(runTestResultSchema.omit({ input: true, output: true, expected: true }).strict()) })
  .strict();
export type RunResultEvent = z.infer<typeof runResultEventSchema>;

/** What the store needs to create a Pending run. */
export type NewRun = Pick<Run, "userId" | "problemId" | "language" | "deadlineAt" | "expiresAt">;

/** The 202 body's data.run. */
export const createdRunSchema = z.object({ _id: objectIdSchema, status: z.literal("Pending") });
export type CreatedRun = z.infer<typeof createdRunSchema>;

/** The problem's reference solution as a run job carries it (limits of its own language). */
export const runReferenceSchema = z.object({
  language: languageSchema,
  source: z.string().min(1),
  timeLimitMs: z.number().int().positive(),
  memoryLimitMb: z.number().int().positive(),
});
export type RunReference = z.infer<typeof runReferenceSchema>;

/**
 * Payload of a SubmissionQueue "run" job. Like a submission job it names the test set by
 * reference (the visible tests and the checker come from there); `input` switches to a
 * custom input, `reference` (the admin-only solution, never shown) gives it an expected output.
 */
export const runJobSchema = z.object({
  runId: objectIdSchema,
  userId: z.string(),
  problemId: objectIdSchema,
  language: languageSchema,
  source: z.string(),
  testSet: submissionTestSetSchema,
  input: z.string().optional(),
  reference: runReferenceSchema.optional(),
  timeLimitMs: z.number().int().positive(),
  memoryLimitMb: z.number().int().positive(),
  checker: checkerSchema,
  /** Epoch ms after which submission-service has made the run IE: an evaluator skips it. */
  deadline: z.number().int().positive(),
});
export type RunJob = z.infer<typeof runJobSchema>;

/** EvaluationQueue "run-result" job. */
export const runResultSchema = runVerdictSchema.extend({ runId: objectIdSchema, userId: z.string() });
export type RunResult = z.infer<typeof runResultSchema>;

/** A test the judge runs in run mode: inline or from the evaluator's cache; `output` null = no expected output. */
export const runJudgeTestSchema = z.union([
  z.object({ input: z.string(), output: z.string().nullable() }),
  z.object({ inputFile: z.string().startsWith("/"), outputFile: z.string().startsWith("/") }),
]);
export type RunJudgeTest = z.infer<typeof runJudgeTestSchema>;

/** Judge.run(): run every test (no early stop), return outputs; the reference fills inline tests without an output. */
export const runJudgeRequestSchema = z.object({
  language: languageSchema,
  source: z.string(),
  tests: z.array(runJudgeTestSchema).min(1),
  timeLimitMs: z.number().int().positive(),
  memoryLimitMb: z.number().int().positive(),
  checker: checkerSchema.default({ type: "exact" }),
  reference: runReferenceSchema.optional(),
});
export type RunJudgeRequest = z.input<typeof runJudgeRequestSchema>;
export type ParsedRunJudgeRequest = z.output<typeof runJudgeRequestSchema>;
