import type { VerdictFields } from "@sonocode/contracts";

/**
 * What a user reads when the platform, not their program, failed. Plain ASCII so
 * every store accepts it; never a stack, a host path or a driver message.
 */
export const IE_REASONS = {
  resultRefused: "internal error: the verdict could not be stored; please resubmit",
  resultMalformed: "internal error: the evaluator's report was malformed; please resubmit",
  problemGone: "internal error: the problem no longer exists, so this submission cannot be judged",
  gaveUp: (attempts: number) => `internal error: judging did not complete after ${attempts} attempts; please resubmit`,
} as const;

/** A final IE verdict: nothing was measured, nothing passed. */
export function internalErrorVerdict(total: number, message: string): VerdictFields {
  return { status: "IE", passed: 0, total, timeMs: null, memoryKb: null, results: [], compileOutput: null, failedTest: null, message };
}
