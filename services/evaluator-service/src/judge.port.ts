import type { Judge } from "@sonocode/judge";

/**
 * The part of @sonocode/judge's Judge the evaluator uses: it judges (rejecting with SandboxError
 * when the sandbox broke), runs a trivial sandboxed self-test for /health and for coming back
 * into rotation, and names its engine for /health ("auto" until a deferred judge has chosen).
 * `run` (run code) is optional: without it a run job ends as IE, so stand-in judges need not have it.
 * Closing the judge belongs to whoever created it (main.ts or the launcher).
 */
export type EvaluatorJudge = Pick<Judge, "judge" | "selfTest"> & Partial<Pick<Judge, "run">> & { readonly engine: string };
