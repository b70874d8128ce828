import { MongoBulkWriteError, type Collection, type Document, type Filter, type ObjectId, type OptionalUnlessRequiredId } from "mongodb";
import { databaseUnavailable } from "../outage.js";

/**
 * The POST path's group commit on MongoDB (see postgres/submissions.batch.ts):
 * admitMany counts the batch's users in one aggregation (countByUsers), decides with
 * admissionPlaces (the rule admit_submissions applies in SQL) and writes the admitted
 * documents in one insertMany. That is a count then an insert, not one statement: exact
 * within a process (the batcher writes one batch at a time) but two replicas admitting
 * the same user at the same moment can both count below the cap (a multi-document
 * transaction would need a replica set; the POSTs of one user rarely reach two
 * replicas in the same millisecond). MongoDB has no all-or-nothing
 * insertMany without a replica-set transaction, so a refused batch is undone:
 * ordered=false inserts every document it can, and when any was refused the ones
 * written are deleted again before the error is rethrown, so the caller sees
 * "none written" (and may retry them one by one). If that delete fails too, some
 * of the batch may be stored, and a row-by-row retry would store them a second
 * time under new ids (each judged twice): so the failure is reported as the outage
 * it almost surely is (DATABASE_UNAVAILABLE, which callers never retry row by row).
 * The leftovers are Pending submissions without a job, which the reconciler
 * enqueues after its grace period: never stuck, judged once.
 */
export async function insertAllOrNone<D extends Document & { _id: ObjectId }>(collection: Collection<D>, docs: D[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await collection.insertMany(docs as OptionalUnlessRequiredId<D>[], { ordered: false });
  } catch (error) {
    // Only a bulk write error says which documents were refused; any other error may have written any of them.
    const refused = error instanceof MongoBulkWriteError ? new Set(error.writeErrors instanceof Array ? error.writeErrors.map((e) => e.index) : [error.writeErrors.index]) : null;
    const written = refused ? docs.filter((_, index) => !refused.has(index)) : docs;
    if (written.length > 0) {
      try {
        await collection.deleteMany({ _id: { $in: written.map((doc) => doc._id) } } as Filter<D>);
      } catch (undoError) {
        throw databaseUnavailable(new AggregateError([error, undoError], "a refused insertMany could not be undone: part of the batch may be stored"));
      }
    }
    // Undone (or nothing was written): the insert's own error says why the batch was refused.
    throw error;
  }
}

/**
 * In-flight counts of several users in one aggregation (the userId_status index); users with
 * none are absent. `inFlight` is the adapter's own in-flight filter (as countActiveByUser's).
 */
export async function countByUsers<D extends Document>(collection: Collection<D>, userIds: readonly string[], inFlight: Document): Promise<{ userId: string; total: number }[]> {
  if (userIds.length === 0) return [];
  const rows = await collection
    .aggregate<{ _id: string; total: number }>([
      { $match: { ...inFlight, userId: { $in: [...new Set(userIds)] } } },
      { $group: { _id: "$userId", total: { $sum: 1 } } },
    ])
    .toArray();
  return rows.map((row) => ({ userId: row._id, total: row.total }));
}
