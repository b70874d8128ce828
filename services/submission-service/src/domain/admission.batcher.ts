import type { AuthClaims, NewSubmission, Submission } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { isDatabaseUnavailable, type Store } from "@sonocode/store";

/** An accepted submission, and how many of its user's were in flight before it (its place in line). */
export interface Admitted {
  submission: Submission;
  inFlight: number;
}

export interface AdmissionBatcher {
  /**
   * Checks the caller's in-flight cap and inserts the Pending row: resolves once
   * the row is committed; TOO_MANY_REQUESTS past the cap (nothing written), or
   * the database's error for this row (nothing written for it).
   */
  admit(caller: AuthClaims, input: NewSubmission): Promise<Admitted>;
}

export interface AdmissionBatcherOptions {
  store: Pick<Store, "submissions">;
  /** Non-final submissions a (non-admin) user may have at once; 0 = unlimited. */
  maxInFlight: number;
  /** Rows per statement; a larger backlog is written as several batches, one after another. */
  maxBatch?: number;
}

interface Entry {
  caller: AuthClaims;
  input: NewSubmission;
  resolve: (admitted: Admitted) => void;
  reject: (error: unknown) => void;
}

/** When a user at the in-flight cap may try again: a judging usually takes a few seconds. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 5;
const DEFAULT_MAX_BATCH = 128;

function tooMany(maxInFlight: number): AppError {
  return new AppError("TOO_MANY_REQUESTS", `at most ${maxInFlight} submissions may be judged at once; wait for a verdict`, {
    details: { limit: "in-flight", max: maxInFlight },
    retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS,
  });
}

/**
 * Group commit for the POST path (issue 9). The POSTs that reach this point
 * during one event-loop turn share one in-flight count query and one multi-row
 * insert instead of two statements each: on PGlite, which runs on this thread,
 * that is most of what a POST cost.
 *
 * Batches are written one at a time (the next gathers while one is in the
 * database), so each batch counts with every earlier batch committed: within a
 * process the per-user cap is exact, a user's POSTs of one batch being admitted
 * in arrival order against the count plus the ones admitted before them. (Several
 * replicas still count concurrently, as before.)
 *
 * Guarantees per POST, whatever its batch-mates do:
 * - the insert is one statement, so a batch is written whole or not at all;
 * - when it fails for anything but an outage (one row the database refuses:
 *   NUL in the code), every row is retried alone, so only that row fails;
 * - an outage fails every POST of the batch with DATABASE_UNAVAILABLE (a 503)
 *   and nothing of it was written; retrying singles against a database that is
 *   away would only hold every request for another connect timeout.
 * A POST refused by the cap behind an admitted batch-mate whose single insert
 * then fails was refused one early: the cap is never exceeded, it may be met
 * conservatively in that one case.
 */
export function createAdmissionBatcher(options: AdmissionBatcherOptions): AdmissionBatcher {
  const { store, maxInFlight } = options;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  let pending: Entry[] = [];
  let scheduled = false;
  let writing = false;

  const capped = (caller: AuthClaims) => caller.role !== "admin" && maxInFlight > 0;

  const insertAlone = async (admitted: { entry: Entry; inFlight: number }[]) => {
    await Promise.all(
      admitted.map(({ entry, inFlight }) =>
        store.submissions.create(entry.input).then(
          (submission) => entry.resolve({ submission, inFlight }),
          (error: unknown) => entry.reject(error),
        ),
      ),
    );
  };

  const write = async (batch: Entry[]) => {
    let counts: Map<string, number>;
    try {
      counts = await store.submissions.countActiveByUsers(batch.map((entry) => entry.caller.sub));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    const admitted: { entry: Entry; inFlight: number }[] = [];
    for (const entry of batch) {
      const inFlight = counts.get(entry.caller.sub) ?? 0;
      if (capped(entry.caller) && inFlight >= maxInFlight) {
        entry.reject(tooMany(maxInFlight));
        continue;
      }
      admitted.push({ entry, inFlight });
      counts.set(entry.caller.sub, inFlight + 1);
    }
    if (admitted.length === 0) return;
    let submissions: Submission[];
    try {
      submissions = await store.submissions.createMany(admitted.map(({ entry }) => entry.input));
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        for (const { entry } of admitted) entry.reject(error);
        return;
      }
      await insertAlone(admitted);
      return;
    }
    admitted.forEach(({ entry, inFlight }, index) => entry.resolve({ submission: submissions[index]!, inFlight }));
  };

  const drain = async () => {
    scheduled = false;
    writing = true;
    try {
      while (pending.length > 0) {
        const batch = pending.slice(0, maxBatch);
        pending = pending.slice(batch.length);
        // write() answers every entry itself; this catch is for a fault in that bookkeeping.
        await write(batch).catch((error: unknown) => {
          for (const entry of batch) entry.reject(error);
        });
      }
    } finally {
      writing = false;
    }
  };

  return {
    admit(caller, input) {
      return new Promise<Admitted>((resolve, reject) => {
        pending.push({ caller, input, resolve, reject });
        // A batch being written picks up what arrived meanwhile as soon as it is done.
        if (writing || scheduled) return;
        scheduled = true;
        // setImmediate, not a microtask: the requests handled in the same I/O phase share one batch.
        setImmediate(() => void drain());
      });
    },
  };
}
