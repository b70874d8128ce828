import type { Logger } from "@sonocode/logger";
import type { Store } from "@sonocode/store";

/**
 * pageSize: submissions moved back to Pending per step (one short statement: few row locks,
 * and a finalize racing it waits for one page at most); budgetMs: marking time per feeder tick,
 * after which the tick goes on to queue the window (so the first pages are judged while the
 * later ones are still being marked, and a PGlite shared with POSTs is never held for long).
 */
export const REJUDGE_MARKER_DEFAULTS = { pageSize: 500, budgetMs: 500 } as const;

export interface RejudgeMarkerDeps {
  store: Store;
  logger: Logger;
  pageSize?: number;
  budgetMs?: number;
}

export interface RejudgeMarkReport {
  /** Submissions moved back to Pending by this step. */
  moved: number;
  /** Rejudges whose marking ended in this step. */
  finished: number;
  /** Rejudges still marking after it. */
  marking: number;
}

/** Runs one bounded marking step over every rejudge still marking (oldest first). */
export type RejudgeMarker = () => Promise<RejudgeMarkReport>;

/**
 * The background half of a rejudge request: the request only recorded it; this moves its
 * submissions back to Pending a page at a time, resuming from the position the database keeps
 * (so a restart of submission-service, or another replica's feeder, carries on where the last
 * step ended). The feeder runs it under its period lock at the start of each tick.
 */
export function createRejudgeMarker(deps: RejudgeMarkerDeps): RejudgeMarker {
  const pageSize = deps.pageSize ?? REJUDGE_MARKER_DEFAULTS.pageSize;
  const budgetMs = deps.budgetMs ?? REJUDGE_MARKER_DEFAULTS.budgetMs;
  const log = deps.logger.child({ component: "rejudge-marker" });
  return async () => {
    const report: RejudgeMarkReport = { moved: 0, finished: 0, marking: 0 };
    const started = Date.now();
    const marking = await deps.store.rejudgeRequests.listMarking(100);
    for (const rejudge of marking) {
      let done = false;
      // At least one page per rejudge and tick, however long the previous one took.
      do {
        const step = await deps.store.rejudgeRequests.markNext(rejudge._id, pageSize, new Date().toISOString());
        if (step === null) {
          // Another replica finished it meanwhile.
          done = true;
          break;
        }
        report.moved += step.moved;
        done = step.done;
      } while (!done && Date.now() - started < budgetMs);
      if (done) {
        report.finished++;
        log.info({ rejudgeId: rejudge._id, problemId: rejudge.problemId, queued: rejudge.queued }, "rejudge marked: every submission is back to Pending");
      } else report.marking++;
      if (Date.now() - started >= budgetMs) {
        report.marking += marking.length - marking.indexOf(rejudge) - 1;
        break;
      }
    }
    return report;
  };
}
