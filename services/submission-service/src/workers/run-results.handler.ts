import { objectIdSchema, runResultSchema, type Run, type RunVerdict } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import { isDatabaseUnavailable, type Store } from "@sonocode/store";
import { UnrecoverableError, type Job } from "bullmq";
import { z } from "zod";
import type { RunNotifier } from "../notifications/run.notifier.js";
import { FinalEventNotAppendedError } from "../notifications/user-events.js";

/** What a run's owner reads when its result could not be recorded. */
export const RUN_IE_REASONS = {
  resultRefused: "internal error: the run's result could not be stored; please run again",
  resultMalformed: "internal error: the evaluator's report was malformed; please run again",
  lost: "internal error: the run did not finish in time (its evaluator was lost); please run again",
} as const;

export function runInternalError(message: string): RunVerdict {
  return { status: "IE", compileOutput: null, results: [], message };
}

const runIdsSchema = z.object({ runId: objectIdSchema });

export type RunResultOutcome = "finalized" | "replayed" | "refused" | "dropped";

/**
 * EvaluationQueue "run-result" jobs (results.consumer.ts dispatches them here): write the
 * run's final state once, then emit run:result to its owner. DATABASE_UNAVAILABLE, and a
 * run:result that could not be appended (FinalEventNotAppendedError), are thrown to the
 * consumer, which parks the job and runs it again (as for submission results): the replay finds
 * the run final and appends the event unless its "went out" mark says it already did. Anything
 * else the store refuses makes the run IE, never leaves it Pending.
 */
export function createRunResultHandler(deps: { store: Store; notifier: RunNotifier }) {
  async function apply(runId: string, verdict: RunVerdict, log: Logger): Promise<RunResultOutcome> {
    let outcome: { run: Run; applied: boolean } | null;
    try {
      outcome = await deps.store.runs.finalize(runId, verdict);
    } catch (error) {
      if (isDatabaseUnavailable(error) || verdict.message === RUN_IE_REASONS.resultRefused) throw error;
      log.error({ err: error, status: verdict.status }, "the store refused the run result; recording IE");
      await apply(runId, runInternalError(RUN_IE_REASONS.resultRefused), log);
      return "refused";
    }
    if (!outcome) {
      log.warn("run result dropped: unknown run (expired or its enqueue failed)");
      return "dropped";
    }
    log.info({ status: outcome.run.status, applied: outcome.applied }, outcome.applied ? "run finalized" : "replayed run result: already final");
    // The stored run (the deadline sweep may have won), once: a replay appends only without the mark.
    try {
      await deps.notifier.final(outcome.run, { replay: !outcome.applied });
    } catch (error) {
      // Was: logged and dropped, so a tab that stayed connected never saw the run end.
      log.warn({ err: error }, "run:result not appended; the result job will run again");
      throw new FinalEventNotAppendedError(error);
    }
    return outcome.applied ? "finalized" : "replayed";
  }

  return async function handle(job: Job, log: Logger): Promise<RunResultOutcome> {
    const parsed = runResultSchema.safeParse(job.data);
    if (!parsed.success) {
      const ids = runIdsSchema.safeParse(job.data);
      if (!ids.success) throw new UnrecoverableError("invalid run result payload");
      const runLog = log.child({ runId: ids.data.runId });
      runLog.error({ issues: parsed.error.issues.map((issue) => issue.path.join(".")) }, "malformed run result; recording IE");
      await apply(ids.data.runId, runInternalError(RUN_IE_REASONS.resultMalformed), runLog);
      return "refused";
    }
    const { runId, userId: _userId, ...verdict } = parsed.data;
    return apply(runId, verdict, log.child({ runId }));
  };
}
