import type { AuthClaims, NewSubmission, Submission } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { isDatabaseUnavailable, type AdmissionOutcome, type AdmissionRequest, type Store } from "@sonocode/store";

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
 * during one event-loop turn share ONE statement (store.submissions.admitMany:
 * the in-flight caps and the multi-row insert together) instead of two each.
 *
 * Batches are written one at a time (the next gathers while one is in the
 * database). The store decides the cap: a user's POSTs of one batch are admitted
 * in arrival order against the stored count plus the ones admitted before them,
 * and on PostgreSQL a user's admissions are serialised across replicas, so the
 * cap is exact there too (MongoDB: within a replica).
 *
 * Guarantees per POST, whatever its batch-mates do:
 * - admission is one statement, so a batch is written whole or not at all;
 * - when it fails for anything but an outage (one row the database refuses:
 *   NUL in the code), every row is admitted again alone, one after another in
 *   arrival order, so only that row fails and the cap stays exact;
 * - an outage fails every POST of the batch with DATABASE_UNAVAILABLE (a 503)
 *   and nothing of it was written; retrying singles against a database that is
 *   away would only hold every request for another connect timeout.
 */
export function createAdmissionBatcher(options: AdmissionBatcherOptions): AdmissionBatcher {
  const { store, maxInFlight } = options;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  let pending: Entry[] = [];
  let scheduled = false;
  let writing = false;

  const request = (entry: Entry): AdmissionRequest => ({ input: entry.input, capped: entry.caller.role !== "admin" && maxInFlight > 0 });

  const answer = (entry: Entry, outcome: AdmissionOutcome) => {
    if (outcome.admitted) entry.resolve({ submission: outcome.submission, inFlight: outcome.inFlight });
    else entry.reject(tooMany(maxInFlight));
  };

  const admitAlone = async (batch: Entry[]) => {
    for (const entry of batch) {
      try {
        answer(entry, (await store.submissions.admitMany([request(entry)], maxInFlight))[0]!);
      } catch (error) {
        entry.reject(error);
      }
    }
  };

  const write = async (batch: Entry[]) => {
    let outcomes: AdmissionOutcome[];
    try {
      outcomes = await store.submissions.admitMany(batch.map(request), maxInFlight);
    } catch (error) {
      if (isDatabaseUnavailable(error) || batch.length === 1) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      await admitAlone(batch);
      return;
    }
    batch.forEach((entry, index) => answer(entry, outcomes[index]!));
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
