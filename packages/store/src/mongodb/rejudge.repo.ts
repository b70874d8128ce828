import { ACTIVE_STATUSES, type SubmissionStatus } from "@sonocode/contracts";
import { ObjectId, type Collection, type Filter } from "mongodb";
import type { RejudgeRepository, Unverified } from "../ports.js";
import type { SubmissionDoc } from "./mongo.store.js";

const ACTIVE: SubmissionStatus[] = [...ACTIVE_STATUSES];

/** Documents written before rejudges existed have no rejudgeGeneration: they are generation 0. */
export function generationFilter(generation: number): Filter<SubmissionDoc> {
  // "not > 0" matches 0 and a missing field alike, on one field (callers have $or filters of their own).
  return generation === 0 ? { rejudgeGeneration: { $not: { $gt: 0 } } } : { rejudgeGeneration: generation };
}

/**
 * Rejudges on MongoDB. A page is the ids of one keyset page of the problem's submissions,
 * then one pipeline updateMany over exactly those ids (each document's update is atomic, so a
 * finalize racing it either lands before, and is what previousStatus keeps, or after and is
 * refused by the generation it no longer matches).
 */
export class MongoRejudges implements Unverified<RejudgeRepository> {
  constructor(private readonly collection: Collection<SubmissionDoc>) {}

  async markPage(problemId: string, page: { after?: string | undefined; limit: number; at: string }): Promise<string[]> {
    const filter: Filter<SubmissionDoc> = { problemId: ObjectId.createFromHexString(problemId) };
    if (page.after !== undefined) filter._id = { $gt: ObjectId.createFromHexString(page.after) };
    const docs = await this.collection.find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(page.limit).toArray();
    if (docs.length === 0) return [];
    const at = new Date(page.at);
    await this.collection.updateMany({ _id: { $in: docs.map((doc) => doc._id) } }, [
      {
        $set: {
          // The last final status (what problem statistics counted); one still in flight keeps its own.
          previousStatus: { $cond: [{ $in: ["$status", ACTIVE] }, { $ifNull: ["$previousStatus", null] }, "$status"] },
          status: "Pending",
          passed: 0,
          timeMs: null,
          memoryKb: null,
          results: [],
          compileOutput: null,
          failedTest: null,
          message: null,
          score: null,
          groups: null,
          rejudgedAt: at,
          rejudgeGeneration: { $add: [{ $ifNull: ["$rejudgeGeneration", 0] }, 1] },
          updatedAt: at,
        },
      },
    ]);
    return docs.map((doc) => doc._id.toHexString());
  }

  async listRejudging(limit: number): Promise<Record<string, unknown>[]> {
    const docs = await this.collection
      .find({ status: { $in: ACTIVE }, rejudgeGeneration: { $gt: 0 } }, { projection: { _id: 1, problemId: 1, status: 1, rejudgeGeneration: 1, rejudgedAt: 1 } })
      .sort({ rejudgedAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => ({
      _id: doc._id.toHexString(),
      problemId: doc.problemId.toHexString(),
      status: doc.status,
      rejudgeGeneration: doc.rejudgeGeneration,
      rejudgedAt: doc.rejudgedAt?.toISOString(),
    }));
  }
}
