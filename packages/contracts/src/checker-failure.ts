import { z } from "zod";

/**
 * Why a problem's custom checker could not judge (the submission is IE, the problem needs an
 * admin). A closed set, so it can label a metric: build (does not compile), unsupported (its
 * language or file names), failed (testlib exit 3: the checker's own failure), exit (an exit
 * code outside the protocol), score (exit 7 without a score), limit (time, memory or output),
 * signal (killed), io (its input files could not be written), unavailable (this judge runs none),
 * interactor (an interactive problem's interactor could not be built, crashed or broke its protocol).
 */
export const CHECKER_FAILURE_REASONS = ["build", "unsupported", "failed", "exit", "score", "limit", "signal", "io", "unavailable", "interactor"] as const;
export type CheckerFailureReason = (typeof CHECKER_FAILURE_REASONS)[number];

/**
 * Carried by the judge's verdict next to an IE the checker caused, for the evaluator's admin
 * log and metrics; never stored and never shown to the submitter (evaluationResultSchema drops it).
 */
export const checkerFailureSchema = z.object({
  reason: z.enum(CHECKER_FAILURE_REASONS),
  /** 0-based index of the test it failed on; absent when it failed before any test (build). */
  test: z.number().int().min(0).optional(),
});
export type CheckerFailure = z.infer<typeof checkerFailureSchema>;
