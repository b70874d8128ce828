import { ACTIVE_STATUSES, type SubmissionStatus } from "@sonocode/contracts";
import type { Collection, Filter } from "mongodb";
import type { RejudgeRepository, Unverified } from "../ports.js";
import type { SubmissionDoc } from "./submissions.repo.js";

const ACTIVE: SubmissionStatus[] = [...ACTIVE_STATUSES];

/** Documents written before rejudges existed have no rejudgeGeneration: they are generation 0. */
export function generationFilter(generation: number): Filter<SubmissionDoc> {
  // "not > 0" matches 0 and a missing field alike, on one field (callers have $or filters of their own).
  return generation === 0 ? { rejudgeGeneration: { $not: { $gt: 0 } } } : { rejudgeGeneration: generation };
}

/**
 * The rejudge feeder's window on MongoDB. Marking submissions for a rejudge is
 * rejudge-requests.repo.ts's.
 */
export class MongoRejudges implements Unverified<RejudgeRepository> {
  constructor(private readonly collection: Collection<SubmissionDoc>) {}

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
