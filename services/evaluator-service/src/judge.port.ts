import type { Judge } from "@sonocode/judge";

/**
 * The part of @sonocode/judge's Judge the evaluator uses: it judges, and it names its engine
 * for /health. Closing the judge belongs to whoever created it (main.ts or the launcher).
 */
export type EvaluatorJudge = Pick<Judge, "engine" | "judge">;
