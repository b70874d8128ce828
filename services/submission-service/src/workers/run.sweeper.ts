import { RUN_RESULT_JOB, RUN_RESULT_JOB_OPTIONS, runResultSchema, type Run } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import type { RunCursor, Store } from "@sonocode/store";
import type { Queue } from "bullmq";
import { RUN_IE_REASONS, runInternalError } from "./run-results.handler.js";

/** A sweep every 30 s: a lost run ends IE at most this long after its deadline. */
export const RUN_SWEEP_DEFAULTS = { periodMs: 30_000, batch: 200 } as const;

export interface RunSweeperDeps {
  store: Store;
  /** EvaluationQueue: where a lost run's IE is queued, as its result. */
  evaluationQueue: Queue;
  logger: Logger;
  periodMs?: number;
  /** false: no timer, only runOnce() (tests). */
  autoStart?: boolean;
}

export interface RunSweeperHandle {
  /** One sweep: overdue runs given up (their IE queued as results), expired runs deleted. */
  runOnce(): Promise<{ failed: number; deleted: number }>;
  close(): Promise<void>;
}

/**
 * Runs have a bounded lifetime instead of a reconciler: a run is disposable (the user clicks
 * Run again), so a lost one is not re-driven, it is ended. Past its deadline a run still
 * Pending/Running is given up as IE: the IE is queued on EvaluationQueue as the run's result,
 * and the results consumer writes it and sends run:result like any run's result (parking the
 * job while the database is away or the append fails), so nothing is owed by the sweeping
 * process. A sweep that cannot queue leaves the run active for the next one. Every replica
 * sweeps; the conditional finalize finishes each run once (an IE queued twice, or one racing a
 * late real result, changes nothing the second time). Past its expiry (24 h) a run is deleted
 * (MongoDB's TTL index does that too).
 */
export function createRunSweeper(deps: RunSweeperDeps): RunSweeperHandle {
  const periodMs = deps.periodMs ?? RUN_SWEEP_DEFAULTS.periodMs;
  const log = deps.logger.child({ component: "run-sweeper" });

  async function giveUp(run: Run): Promise<void> {
    const result = runResultSchema.parse({ runId: run._id, userId: run.userId, ...runInternalError(RUN_IE_REASONS.lost) });
    await deps.evaluationQueue.add(RUN_RESULT_JOB, result, RUN_RESULT_JOB_OPTIONS);
    log.warn({ runId: run._id }, "run given up: not finished by its deadline; IE queued for the results consumer");
  }

  async function runOnce(): Promise<{ failed: number; deleted: number }> {
    const now = new Date().toISOString();
    let failed = 0;
    let after: RunCursor | undefined;
    for (;;) {
      const overdue = await deps.store.runs.listOverdue(now, RUN_SWEEP_DEFAULTS.batch, after);
      for (const run of overdue) {
        await giveUp(run);
        failed++;
      }
      if (overdue.length < RUN_SWEEP_DEFAULTS.batch) break;
      const last = overdue[overdue.length - 1]!;
      after = { deadlineAt: last.deadlineAt, id: last._id };
    }
    const deleted = await deps.store.runs.deleteExpired(now);
    if (deleted > 0) log.info({ deleted }, "expired runs deleted");
    return { failed, deleted };
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let closed = false;
  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error: unknown) => log.warn({ err: error }, "run sweep skipped"))
        .finally(schedule);
    }, Math.round(periodMs * (0.9 + Math.random() * 0.2)));
    timer.unref();
  }
  if (deps.autoStart !== false) schedule();

  return {
    runOnce,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
