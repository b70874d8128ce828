import type { Logger } from "@sonocode/logger";
import type { Store } from "@sonocode/store";
import type { RunNotifier } from "../notifications/run.notifier.js";
import { RUN_IE_REASONS, runInternalError } from "./run-results.handler.js";

/** A sweep every 30 s: a lost run ends IE at most this long after its deadline. */
export const RUN_SWEEP_DEFAULTS = { periodMs: 30_000, batch: 200 } as const;

export interface RunSweeperDeps {
  store: Store;
  notifier: RunNotifier;
  logger: Logger;
  periodMs?: number;
  /** false: no timer, only runOnce() (tests). */
  autoStart?: boolean;
}

export interface RunSweeperHandle {
  /** One sweep: overdue runs made IE (and announced), expired runs deleted. */
  runOnce(): Promise<{ failed: number; deleted: number }>;
  close(): Promise<void>;
}

/**
 * Runs have a bounded lifetime instead of a reconciler: a run is disposable (the user clicks
 * Run again), so a lost one is not re-driven, it is ended. Past its deadline a run still
 * Pending/Running becomes IE and its owner gets run:result; past its expiry (24 h) it is
 * deleted (MongoDB's TTL index does that too). Every replica sweeps: the conditional update
 * finishes each run once, and only the replica that finished it emits.
 */
export function createRunSweeper(deps: RunSweeperDeps): RunSweeperHandle {
  const periodMs = deps.periodMs ?? RUN_SWEEP_DEFAULTS.periodMs;
  const log = deps.logger.child({ component: "run-sweeper" });

  async function runOnce(): Promise<{ failed: number; deleted: number }> {
    const now = new Date().toISOString();
    let failed = 0;
    for (;;) {
      const overdue = await deps.store.runs.expireOverdue(now, runInternalError(RUN_IE_REASONS.lost), RUN_SWEEP_DEFAULTS.batch);
      failed += overdue.length;
      for (const run of overdue) {
        log.warn({ runId: run._id }, "run made IE: not finished by its deadline");
        await deps.notifier.final(run).catch((error: unknown) => log.warn({ err: error, runId: run._id }, "run IE notification failed"));
      }
      if (overdue.length < RUN_SWEEP_DEFAULTS.batch) break;
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
