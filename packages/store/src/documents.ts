import {
  problemInputSchema,
  problemPatchSchema,
  problemSchema,
  submissionSchema,
  verdictFieldsSchema,
  type NewSubmission,
  type ProblemInput,
  type ProblemPatch,
  type Problem,
  type Submission,
  type VerdictFields,
} from "@sonocode/contracts";
import { testSetHash, testSetVersionHash } from "@sonocode/contracts/test-set-hash";
import { validationError } from "@sonocode/errors";
import { z } from "zod";

/**
 * Every document leaving the store is re-parsed with the contracts' schemas, so
 * a row written by an older version (or edited by hand) fails loudly here rather
 * than deep inside a service. Adapters hand over plain objects with `null` for
 * absent optional columns; those keys are dropped first because the contracts
 * model them as optional, not nullable.
 */
const OPTIONAL_PROBLEM_KEYS = ["editorial", "timeLimitMs", "memoryLimitMb", "checker", "runAllTests", "referenceSolution", "languageLimits", "groups", "interactor"] as const;

const storedProblemSchema = problemSchema.omit({ testSet: true });

/**
 * `testSetHash` is the stored content hash of the test cases (written with them);
 * rows from before it existed have none and get it computed here. The test set's
 * version (what jobs name) also covers the checker and groups: it is derived here, at
 * read time, so a PATCH of the checker alone changes it with no write-path hashing.
 */
export function toProblem(raw: unknown): Problem {
  const { testSetHash: storedHash, ...copy } = storedDocument(raw, "problem");
  for (const key of OPTIONAL_PROBLEM_KEYS) if (copy[key] === null || copy[key] === undefined) delete copy[key];
  const problem = storedProblemSchema.parse(copy);
  const testsHash = typeof storedHash === "string" ? storedHash : testSetHash(problem.testCases);
  const hash = testSetVersionHash(testsHash, problem);
  return problemSchema.parse({ ...problem, testSet: { hash, count: problem.testCases.length } });
}

export function toSubmission(raw: unknown): Submission {
  return submissionSchema.parse(raw);
}

/** A document as an adapter handed it over: a plain object, or the read fails loudly. */
function storedDocument(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new TypeError(`the store returned a ${what} that is not a document`);
  return raw as Record<string, unknown>;
}

/** Dates leave the store as ISO strings; drivers may hand back Date or text. */
export function isoDate(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") return new Date(value).toISOString();
  throw new TypeError(`expected a timestamp, got ${typeof value}`);
}

/**
 * Writes are checked against the same contracts before they reach the database:
 * the types already promise the shape, but not the ranges (non-negative counters,
 * a final verdict status, integer limits), and a row the read path would refuse
 * must never be written. A failure is a VALIDATION_FAILED AppError (a 400).
 */
function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}

const newSubmissionSchema = submissionSchema.pick({ userId: true, problemId: true, language: true, code: true, total: true });
const progressSchema = z.object({ passed: z.number().int().min(0), total: z.number().int().min(0) });
// Built once: a zod (v4) schema costs far more to construct than to run, and generation is
// checked on every progress event and every verdict (it was a quarter of a millisecond per submission).
const optionalGenerationSchema = z.number().int().min(0).optional();
const maxInFlightSchema = z.number().int().min(0).max(2_147_483_647);
const pageLimitSchema = z.number().int().min(1).max(10_000);

/** Stored next to the test cases on every write that sets them (both adapters). */
export { testSetHash };

export const checkWrite = {
  problem: (input: ProblemInput): ProblemInput => checked(problemInputSchema, input, "problem"),
  patch: (patch: ProblemPatch): ProblemPatch => checked(problemPatchSchema, patch, "problem patch"),
  submission: (input: NewSubmission): NewSubmission => checked(newSubmissionSchema, input, "submission"),
  progress: (progress: { passed: number; total: number }) => checked(progressSchema, progress, "progress"),
  verdict: (verdict: VerdictFields): VerdictFields => checked(verdictFieldsSchema, verdict, "verdict"),
  generation: (generation: number | undefined): number | undefined => checked(optionalGenerationSchema, generation, "rejudge generation"),
  maxInFlight: (max: number): number => checked(maxInFlightSchema, max, "in-flight cap"),
  pageLimit: (limit: number): number => checked(pageLimitSchema, limit, "page limit"),
};
