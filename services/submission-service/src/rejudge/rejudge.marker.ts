import type { Logger } from "@sonocode/logger";
import { isDatabaseUnavailable, type Store } from "@sonocode/store";

/**
 * pageSize: submissions moved back to Pending per step (one short statement: few row locks,
 * and a finalize racing it waits for one page at most); budgetMs: marking time per feeder tick,
 * after which the tick goes on to queue the window (so the first pages are judged while the
 * later ones are still being marked, and a PGlite shared with POSTs is never held for long).
 */
export const REJUDGE_MARKER_DEFAULTS = { pageSize: 500, budgetMs: 500 } as const;

/** A rejudge whose step keeps failing is logged at error once, then at most this often (with its failure count). */
const FAILURE_LOG_EVERY_MS = 60_000;

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
  /** Rejudges still marking after it (the failed ones included). */
  marking: number;
  /** Rejudges whose step failed in this step (left marking: retried next tick, after the others). */
  failed: number;
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
  /** Rejudges whose last step failed: failures in a row, when last logged. */
  const failing = new Map<string, { failures: number; loggedAt: number }>();

  function stepFailed(rejudge: { _id: string; problemId: string }, error: unknown): void {
    const now = Date.now();
    const seen = failing.get(rejudge._id) ?? { failures: 0, loggedAt: 0 };
    seen.failures++;
    const logged = seen.failures === 1 || now - seen.loggedAt >= FAILURE_LOG_EVERY_MS;
    if (logged) seen.loggedAt = now;
    failing.set(rejudge._id, seen);
    // The error only (a database message, no submission fields): the marking step never reads code.
    if (logged) log.error({ err: error, rejudgeId: rejudge._id, problemId: rejudge.problemId, failures: seen.failures }, "rejudge marking step failed; the other rejudges go on, this one is retried next tick");
  }

  return async () => {
    const report: RejudgeMarkReport = { moved: 0, finished: 0, marking: 0, failed: 0 };
    const started = Date.now();
    const marking = await deps.store.rejudgeRequests.listMarking(100);
    // Forget failures of rejudges no longer marking (finished by another replica meanwhile).
    for (const rejudgeId of failing.keys()) if (!marking.some((rejudge) => rejudge._id === rejudgeId)) failing.delete(rejudgeId);
    for (const [index, rejudge] of marking.entries()) {
      let done = false;
      try {
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
        failing.delete(rejudge._id);
      } catch (error) {
        // The database away fails every rejudge alike: the whole step ends (the feeder logs it once and retries).
        if (isDatabaseUnavailable(error)) throw error;
        // Anything else belongs to this rejudge (say, one of its rows a statement cannot update):
        // it stays marking, and must not hold back the rejudges after it in the list.
        stepFailed(rejudge, error);
        report.failed++;
      }
      if (done) {
        report.finished++;
        log.info({ rejudgeId: rejudge._id, problemId: rejudge.problemId, queued: rejudge.queued }, "rejudge marked: every submission is back to Pending");
      } else report.marking++;
      if (Date.now() - started >= budgetMs) {
        report.marking += marking.length - index - 1;
        break;
      }
    }
    return report;
  };
}
