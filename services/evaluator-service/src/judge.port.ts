import type { Judge } from "@sonocode/judge";

/**
 * The part of @sonocode/judge's Judge the evaluator uses: it judges (rejecting with SandboxError
 * when the sandbox broke), runs a trivial sandboxed self-test for /health and for coming back
 * into rotation, and names its engine. Closing the judge belongs to whoever created it
 * (main.ts or the launcher).
 */
export type EvaluatorJudge = Pick<Judge, "engine" | "judge" | "selfTest">;
