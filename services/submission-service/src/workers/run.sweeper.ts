import type { Logger } from "@sonocode/logger";
import { withTimeout } from "@sonocode/redis";
import type { Store } from "@sonocode/store";
import type { Run } from "@sonocode/contracts";
import { createOwedFinals } from "../notifications/owed-finals.js";
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
  /** One sweep: owed run:result events sent again, overdue runs made IE (and announced), expired runs deleted. */
  runOnce(): Promise<{ failed: number; deleted: number }>;
  /** run:result events of runs this sweeper made IE whose append failed, still to be sent. */
  owed(): number;
  close(): Promise<void>;
}

/**
 * Runs have a bounded lifetime instead of a reconciler: a run is disposable (the user clicks
 * Run again), so a lost one is not re-driven, it is ended. Past its deadline a run still
 * Pending/Running becomes IE and its owner gets run:result; past its expiry (24 h) it is
 * deleted (MongoDB's TTL index does that too). Every replica sweeps: the conditional update
 * finishes each run once, and only the replica that finished it emits. An IE whose run:result
 * could not be appended (Redis away at that moment) is owed and sent at the next sweep (the run
 * is final by then, so no later sweep would find it); the notifier's mark keeps a retry whose
 * first append did land from appending twice.
 */
export function createRunSweeper(deps: RunSweeperDeps): RunSweeperHandle {
  const periodMs = deps.periodMs ?? RUN_SWEEP_DEFAULTS.periodMs;
  const log = deps.logger.child({ component: "run-sweeper" });
  const owed = createOwedFinals<Run>({
    keyOf: (run) => run._id,
    send: async (run) => {
      await deps.notifier.final(run, { replay: true });
    },
    logger: log,
  });

  async function runOnce(): Promise<{ failed: number; deleted: number }> {
    // First what earlier sweeps owe; a failure here leaves them owed and does not stop the sweep.
    await owed.settle();
    const now = new Date().toISOString();
    let failed = 0;
    for (;;) {
      const overdue = await deps.store.runs.expireOverdue(now, runInternalError(RUN_IE_REASONS.lost), RUN_SWEEP_DEFAULTS.batch);
      failed += overdue.length;
      for (const run of overdue) {
        log.warn({ runId: run._id }, "run made IE: not finished by its deadline");
        await deps.notifier.final(run).catch((error: unknown) => {
          log.warn({ err: error, runId: run._id }, "run IE notification failed; sent again at the next sweep");
          owed.owe(run);
        });
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
    owed: () => owed.size(),
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      // A last try: a replica that stops would otherwise take what it owes with it.
      const left = await withTimeout(owed.settle(), 3_000, "owed run:result events not sent in time").catch(() => ({ owed: owed.size() }));
      if (left.owed > 0) log.warn({ owed: left.owed }, "run:result events still owed at shutdown are lost (the database has the runs)");
    },
  };
}
