import { z } from "zod";
import { languageSchema } from "./languages.js";
import { checkerSchema, PROBLEM_LIMITS } from "./problem.js";
import { verdictFieldsSchema } from "./submission.js";
import { checkerFailureSchema } from "./checker-failure.js";
import { groupNameSchema, testGroupsSchema } from "./groups.js";
import { interactorSchema } from "./interactor.js";

/** Default limits of one judged submission (per test for time and memory). */
export const JUDGE_DEFAULTS = {
  timeLimitMs: PROBLEM_LIMITS.timeLimitMs.default,
  memoryLimitMb: PROBLEM_LIMITS.memoryLimitMb.default,
  outputLimitBytes: 64 * 1024 * 1024,
  compileTimeLimitMs: 10_000,
  compileMemoryLimitMb: 1_024,
  compileOutputLimitBytes: 64 * 1024,
  maxProcesses: 64,
} as const;

/** A test given inline: the input and expected output as text. */
/** `group`: the subtask (a name in the request's `groups`) the test belongs to. */
export const inlineJudgeTestSchema = z.object({ input: z.string(), output: z.string(), hidden: z.boolean().default(false), group: groupNameSchema.optional() });

const hostPathSchema = z
  .string()
  .refine((path) => path.startsWith("/") && !path.includes("\0") && !path.split("/").includes(".."), { message: "must be an absolute host path without '..'" });

/**
 * A test given as files on the judge's host (the evaluator's test-set cache): the input is
 * streamed into the program's stdin and the checker reads the answer from the file, so a
 * large test set never sits in memory whole. The judge reads them as root: only trusted
 * callers (the evaluator) may build such requests.
 */
export const fileJudgeTestSchema = z.object({ inputFile: hostPathSchema, outputFile: hostPathSchema, hidden: z.boolean().default(false), group: groupNameSchema.optional() });

export const judgeTestSchema = z.union([inlineJudgeTestSchema, fileJudgeTestSchema]);
export type JudgeTest = z.output<typeof judgeTestSchema>;

/** The one entry point of the judge engine: judge(request) -> verdict. */
export const judgeRequestSchema = z.object({
  language: languageSchema,
  source: z.string(),
  tests: z.array(judgeTestSchema).min(1),
  timeLimitMs: z.number().int().positive().default(JUDGE_DEFAULTS.timeLimitMs),
  memoryLimitMb: z.number().int().positive().default(JUDGE_DEFAULTS.memoryLimitMb),
  checker: checkerSchema.default({ type: "exact" }),
  runAllTests: z.boolean().default(false),
  /**
   * Subtasks (see scoring.ts in the judge): with groups, tests run group by group in declaration
   * order, a failure no longer stops the other groups, and the verdict carries `groups`.
   */
  groups: testGroupsSchema.optional(),
  /** An interactive problem: each test runs the program against this interactor (its code included); `checker` is then unused. */
  interactor: interactorSchema.optional(),
});
export type JudgeRequest = z.input<typeof judgeRequestSchema>;
export type ParsedJudgeRequest = z.output<typeof judgeRequestSchema>;

/** The verdict is the same shape the submission stores. */
/** The verdict is the stored shape, plus (judge to evaluator only) why a custom checker failed. */
export const verdictSchema = verdictFieldsSchema.extend({ checkerFailure: checkerFailureSchema.optional() });
export type Verdict = z.infer<typeof verdictSchema>;

export const SANDBOX_ENGINES = ["bwrap", "docker"] as const;
export type SandboxEngineName = (typeof SANDBOX_ENGINES)[number];
