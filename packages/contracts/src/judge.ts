import { z } from "zod";
import { languageSchema } from "./languages.js";
import { checkerSchema, PROBLEM_LIMITS } from "./problem.js";
import { verdictFieldsSchema } from "./submission.js";

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

/** The one entry point of the judge engine: judge(request) -> verdict. */
export const judgeRequestSchema = z.object({
  language: languageSchema,
  source: z.string(),
  tests: z.array(z.object({ input: z.string(), output: z.string(), hidden: z.boolean().default(false) })).min(1),
  timeLimitMs: z.number().int().positive().default(JUDGE_DEFAULTS.timeLimitMs),
  memoryLimitMb: z.number().int().positive().default(JUDGE_DEFAULTS.memoryLimitMb),
  checker: checkerSchema.default({ type: "exact" }),
  runAllTests: z.boolean().default(false),
});
export type JudgeRequest = z.input<typeof judgeRequestSchema>;
export type ParsedJudgeRequest = z.output<typeof judgeRequestSchema>;

/** The verdict is the same shape the submission stores. */
export const verdictSchema = verdictFieldsSchema;
export type Verdict = z.infer<typeof verdictSchema>;

export const SANDBOX_ENGINES = ["bwrap", "docker"] as const;
export type SandboxEngineName = (typeof SANDBOX_ENGINES)[number];
