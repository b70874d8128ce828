import { z } from "zod";
import { isoDateSchema, objectIdSchema } from "./common.js";
import { languageInputSchema, languageSchema } from "./languages.js";
import { CHECKER_PROTOCOLS, checkerInputSchema, checkerSchema, publicChecker } from "./checker.js";
import { interactorInputSchema, interactorSchema, publicInteractor } from "./interactor.js";
import { groupNameSchema, testGroupsSchema } from "./groups.js";
import { DEFAULT_MAX_CODE_BYTES } from "./submission.js";
import { testSetRefSchema } from "./test-set-ref.js";
import { problemStatsSchema } from "./scoring.js";

// Re-exported from here, where they always lived: importers of problem.ts keep working.
export { CHECKER_TYPES, DEFAULT_CHECKER, checkerSchema, type Checker } from "./checker.js";

export const DIFFICULTIES = ["easy", "medium", "hard"] as const;
export const difficultySchema = z.enum(DIFFICULTIES);
export type Difficulty = z.infer<typeof difficultySchema>;

/** Bounds on what an admin may configure; the judge enforces them too. */
export const PROBLEM_LIMITS = {
  timeLimitMs: { min: 100, max: 20_000, default: 2_000 },
  memoryLimitMb: { min: 16, max: 1_024, default: 256 },
  maxTestCases: 500,
  maxTestCaseBytes: 8 * 1024 * 1024,
} as const;

const timeLimitMsSchema = z.number().int().min(PROBLEM_LIMITS.timeLimitMs.min).max(PROBLEM_LIMITS.timeLimitMs.max);
const memoryLimitMbSchema = z.number().int().min(PROBLEM_LIMITS.memoryLimitMb.min).max(PROBLEM_LIMITS.memoryLimitMb.max);

/** Per-language overrides of the problem's limits, e.g. { PYTHON: { timeLimitMs: 6000 } }. */
export const languageLimitsSchema = z.partialRecord(
  languageSchema,
  z.object({ timeLimitMs: timeLimitMsSchema.optional(), memoryLimitMb: memoryLimitMbSchema.optional() }).strict(),
);
export type LanguageLimits = z.infer<typeof languageLimitsSchema>;

export const testCaseSchema = z.object({
  input: z.string().max(PROBLEM_LIMITS.maxTestCaseBytes),
  output: z.string().max(PROBLEM_LIMITS.maxTestCaseBytes),
  hidden: z.boolean().default(false),
  /** The subtask (a name in `groups`) the test belongs to. */
  group: groupNameSchema.optional(),
});
export type TestCase = z.infer<typeof testCaseSchema>;

/** The author's solution (admin-only): what a run on custom input takes its expected output from. */
export const referenceSolutionInputSchema = z.object({
  language: languageInputSchema,
  code: z.string().min(1, "code must not be empty").max(DEFAULT_MAX_CODE_BYTES),
});
export const referenceSolutionSchema = z.object({ language: languageSchema, code: z.string() });
export type ReferenceSolution = z.infer<typeof referenceSolutionSchema>;

export const codeStubSchema = z.object({
  language: languageInputSchema,
  startSnippet: z.string().max(64 * 1024).default(""),
  userSnippet: z.string().max(64 * 1024).default(""),
  endSnippet: z.string().max(64 * 1024).default(""),
});
export type CodeStub = z.infer<typeof codeStubSchema>;

const codeStubsSchema = z
  .array(codeStubSchema)
  .max(16)
  .refine((stubs) => new Set(stubs.map((s) => s.language)).size === stubs.length, "one code stub per language");

/** Body of POST/PUT /api/v1/problems. */
export const problemInputSchema = z.object({
  title: z.string().trim().min(1).max(200),
  description: z.string().min(1).max(100_000),
  difficulty: difficultySchema,
  testCases: z.array(testCaseSchema).min(1).max(PROBLEM_LIMITS.maxTestCases),
  codeStubs: codeStubsSchema.default([]),
  editorial: z.string().max(100_000).optional(),
  timeLimitMs: timeLimitMsSchema.optional(),
  memoryLimitMb: memoryLimitMbSchema.optional(),
  checker: checkerInputSchema.optional(),
  /** Judge every test even after a failure (default: stop at the first failing test). */
  runAllTests: z.boolean().optional(),
  /** Admin-only. */
  referenceSolution: referenceSolutionInputSchema.optional(),
  /** Per-language overrides of timeLimitMs / memoryLimitMb (keys: uppercase language names). */
  languageLimits: languageLimitsSchema.optional(),
  /** Subtasks; tests name theirs in testCases[].group. */
  groups: testGroupsSchema.optional(),
  /** An interactive problem: the program talks to this interactor (admin-only code); the interactor decides, `checker` is not used. */
  interactor: interactorInputSchema.optional(),
});
export type ProblemInput = z.infer<typeof problemInputSchema>;

/** Body of PATCH /api/v1/problems/:id: any subset of the fields, at least one. */
// codeStubs is re-declared without its default: zod 4 applies defaults inside
// .partial(), so every PATCH would otherwise wipe the stubs and `{}` would pass.
export const problemPatchSchema = problemInputSchema
  .extend({ codeStubs: codeStubsSchema })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "patch must change at least one field");
export type ProblemPatch = z.infer<typeof problemPatchSchema>;

/** The stored document (admin view). */
export const problemSchema = z.object({
  _id: objectIdSchema,
  title: z.string(),
  description: z.string(),
  difficulty: difficultySchema,
  testCases: z.array(z.object({ input: z.string(), output: z.string(), hidden: z.boolean(), group: z.string().optional() })),
  codeStubs: z.array(
    z.object({ language: languageSchema, startSnippet: z.string(), userSnippet: z.string(), endSnippet: z.string() }),
  ),
  editorial: z.string().optional(),
  timeLimitMs: z.number().int().optional(),
  memoryLimitMb: z.number().int().optional(),
  checker: checkerSchema.optional(),
  runAllTests: z.boolean().optional(),
  referenceSolution: referenceSolutionSchema.optional(),
  languageLimits: languageLimitsSchema.optional(),
  groups: testGroupsSchema.optional(),
  interactor: interactorSchema.optional(),
  /** Content hash and size of testCases, kept current by the store on every write. */
  testSet: testSetRefSchema,
  /** Judged and accepted submissions, kept by the store as submissions are finalized; present on every read from the store. */
  stats: problemStatsSchema.optional(),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
});
export type Problem = z.infer<typeof problemSchema>;

/**
 * What a non-admin sees: no hidden test cases, no editorial, no reference solution, no
 * custom checker's code, and no test-set hash (it covers the hidden tests, and a small
 * hidden set could be guessed from it).
 */
export const publicProblemSchema = problemSchema.omit({ editorial: true, testSet: true, referenceSolution: true, interactor: true }).extend({
  /** Present when the problem is interactive: how its interactor talks, never its code. */
  interactor: z.object({ protocol: z.enum(CHECKER_PROTOCOLS) }).optional(),
  testCases: z.array(z.object({ input: z.string(), output: z.string(), hidden: z.literal(false), group: z.string().optional() })),
  totalTestCases: z.number().int(),
});
export type PublicProblem = z.infer<typeof publicProblemSchema>;

export function toPublicProblem(problem: Problem): PublicProblem {
  const { editorial: _editorial, testSet: _testSet, referenceSolution: _referenceSolution, testCases, checker, interactor, ...rest } = problem;
  return {
    ...rest,
    ...(checker === undefined ? {} : { checker: publicChecker(checker) }),
    ...(interactor === undefined ? {} : { interactor: publicInteractor(interactor) }),
    testCases: testCases
      .filter((t) => !t.hidden)
      .map((t) => ({ input: t.input, output: t.output, hidden: false as const, ...(t.group === undefined ? {} : { group: t.group }) })),
    totalTestCases: testCases.length,
  };
}
