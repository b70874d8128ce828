import {
  ACTIVE_STATUSES,
  type AcceptedComparison,
  type FailedTest,
  type FinalStatus,
  type GroupResult,
  type Language,
  type NewSubmission,
  type SubmissionListQuery,
  type SubmissionStatus,
  type TestResult,
  type VerdictFields,
} from "@sonocode/contracts";
import { ObjectId, type Collection, type Document, type Filter, type WithId } from "mongodb";
import { normalizeId } from "../object-id.js";
import { admissionPlaces } from "../admission.js";
import type { ActiveSubmissionQuery, ActiveSubmissionRef, AdmissionRequest, Page, SubmissionRepository, Unverified } from "../ports.js";
import { findPage, objectId } from "./collections.js";
import { generationFilter } from "./rejudge.repo.js";
import { acceptedComparison, moveProblemStats } from "./scoring.repo.js";
import { countByUsers, insertAllOrNone } from "./submissions.batch.js";

export interface SubmissionDoc {
  _id: ObjectId;
  userId: string;
  problemId: ObjectId;
  language: Language;
  code: string;
  status: SubmissionStatus;
  passed: number;
  total: number;
  timeMs: number | null;
  memoryKb: number | null;
  results: TestResult[];
  compileOutput: string | null;
  failedTest: FailedTest | null;
  message: string | null;
  /** null until judged (and for IE). */
  score?: number | null;
  groups?: GroupResult[] | null;
  /** The final status counted in the problem's stats (absent: not counted); never leaves the store. */
  statsStatus?: FinalStatus | null;
  /** Rejudge fields: absent on documents never rejudged (a missing generation is 0). */
  previousStatus?: FinalStatus | null;
  rejudgedAt?: Date | null;
  rejudgeGeneration?: number;
  createdAt: Date;
  updatedAt: Date;
}

const ACTIVE: SubmissionStatus[] = [...ACTIVE_STATUSES];

type UnverifiedAdmission = { admitted: true; submission: Record<string, unknown>; inFlight: number } | { admitted: false; inFlight: number };

function submissionFromDoc(doc: WithId<SubmissionDoc>): Record<string, unknown> {
  const { score, groups, statsStatus: _statsStatus, ...rest } = doc;
  return {
    ...rest,
    ...(score === null || score === undefined ? {} : { score }),
    ...(groups === null || groups === undefined ? {} : { groups }),
    _id: doc._id.toHexString(),
    problemId: doc.problemId.toHexString(),
    ...(doc.rejudgedAt ? { rejudgedAt: doc.rejudgedAt.toISOString() } : {}),
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}
function newSubmissionDoc(input: NewSubmission, now: Date): SubmissionDoc {
  return {
    _id: new ObjectId(),
    userId: input.userId,
    problemId: objectId(input.problemId),
    language: input.language,
    code: input.code,
    status: "Pending",
    passed: 0,
    total: input.total,
    timeMs: null,
    memoryKb: null,
    results: [],
    compileOutput: null,
    failedTest: null,
    message: null,
    createdAt: now,
    updatedAt: now,
  };
}

export class MongoSubmissions implements Unverified<SubmissionRepository> {
  constructor(
    private readonly collection: Collection<SubmissionDoc>,
    /** Where finalize moves the problem's statistics. */
    private readonly problems: Collection<Document>,
  ) {}

  async create(input: NewSubmission): Promise<Record<string, unknown>> {
    const doc = newSubmissionDoc(input, new Date());
    await this.collection.insertOne(doc);
    return submissionFromDoc(doc);
  }

  async createMany(inputs: NewSubmission[]): Promise<Record<string, unknown>[]> {
    const now = new Date();
    const docs = inputs.map((input) => newSubmissionDoc(input, now));
    await insertAllOrNone(this.collection, docs);
    return docs.map(submissionFromDoc);
  }

  async admitMany(requests: AdmissionRequest[], maxInFlight: number): Promise<UnverifiedAdmission[]> {
    // The same in-flight filter as countActiveByUser: the cap must count alike on both paths.
    const counts = await countByUsers(this.collection, requests.map(({ input }) => input.userId), { status: { $in: ACTIVE }, ...generationFilter(0) });
    const places = admissionPlaces(requests, maxInFlight, new Map(counts.map(({ userId, total }) => [userId, total])));
    const now = new Date();
    const docs = places.map((place, index) => (place.admitted ? newSubmissionDoc(requests[index]!.input, now) : null));
    await insertAllOrNone(this.collection, docs.filter((doc) => doc !== null));
    return places.map((place, index) => (place.admitted ? { admitted: true, submission: submissionFromDoc(docs[index]!), inFlight: place.inFlight } : { admitted: false, inFlight: place.inFlight }));
  }

  async findById(key: string): Promise<Record<string, unknown> | null> {
    const doc = await this.collection.findOne({ _id: objectId(key) });
    return doc ? submissionFromDoc(doc) : null;
  }

  async listByUser(userId: string, query: SubmissionListQuery): Promise<Page<Record<string, unknown>>> {
    const filter: Filter<SubmissionDoc> = { userId };
    if (query.problemId !== undefined) filter.problemId = objectId(query.problemId);
    return findPage(this.collection, filter, query, submissionFromDoc);
  }

  async markRunning(key: string, progress: { passed: number; total: number }, generation?: number): Promise<Record<string, unknown> | null> {
    const _id = objectId(key);
    // The status filter makes this a no-op on a final submission: never regresses;
    // the passed filter drops a progress event overtaken by a newer one.
    const doc = await this.collection.findOneAndUpdate(
      { _id, status: { $in: ACTIVE }, $or: [{ status: "Pending" }, { passed: { $lte: progress.passed } }], ...(generation === undefined ? {} : generationFilter(generation)) },
      { $set: { status: "Running", passed: progress.passed, total: progress.total, updatedAt: new Date() } },
      // Only the progress view comes back (SubmissionProgress): not the code and results.
      { returnDocument: "after", projection: { userId: 1, passed: 1, total: 1, rejudgeGeneration: 1 } },
    );
    if (!doc) return null;
    const generationField = doc.rejudgeGeneration === undefined ? {} : { rejudgeGeneration: doc.rejudgeGeneration };
    return { _id: doc._id.toHexString(), userId: doc.userId, status: "Running", passed: doc.passed, total: doc.total, ...generationField };
  }

  async finalize(key: string, v: VerdictFields, generation?: number): Promise<{ submission: Record<string, unknown>; applied: boolean } | null> {
    const _id = objectId(key);
    // Single-document findOneAndUpdate is atomic: of concurrent finalizers only
    // one matches the active-status filter; the others get null and read back.
    // The document before the update says what it was counted as in the problem's stats.
    const set = {
      status: v.status,
      passed: v.passed,
      total: v.total,
      timeMs: v.timeMs,
      memoryKb: v.memoryKb,
      results: v.results,
      compileOutput: v.compileOutput,
      failedTest: v.failedTest,
      message: v.message ?? null,
      score: v.score ?? null,
      groups: v.groups ?? null,
      statsStatus: v.status,
      updatedAt: new Date(),
    };
    const before = await this.collection.findOneAndUpdate(
      { _id, status: { $in: ACTIVE }, ...(generation === undefined ? {} : generationFilter(generation)) },
      { $set: set },
      { returnDocument: "before" },
    );
    if (before) {
      await moveProblemStats(this.problems, before.problemId, before.statsStatus, v.status);
      return { submission: submissionFromDoc({ ...before, ...set }), applied: true };
    }
    const current = await this.collection.findOne({ _id });
    return current ? { submission: submissionFromDoc(current), applied: false } : null;
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.collection.deleteOne({ _id: objectId(key) });
    return result.deletedCount === 1;
  }

  async listActive(query: ActiveSubmissionQuery): Promise<ActiveSubmissionRef[]> {
    const createdBefore = new Date(query.createdBefore);
    // Rejudges in progress belong to the rejudge feeder, not to the reconciler.
    const filter: Filter<SubmissionDoc> = { status: { $in: ACTIVE }, createdAt: { $lt: createdBefore }, ...generationFilter(0) };
    if (query.after) {
      const afterDate = new Date(query.after.createdAt);
      const afterKey = normalizeId(query.after.id);
      const afterId = afterKey === null ? new ObjectId("000000000000000000000000") : objectId(afterKey);
      filter.$or = [{ createdAt: { $gt: afterDate, $lt: createdBefore } }, { createdAt: afterDate, _id: { $gt: afterId } }];
    }
    const docs = await this.collection
      .find(filter, { projection: { _id: 1, userId: 1, problemId: 1, status: 1, createdAt: 1, updatedAt: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(query.limit)
      .toArray();
    return docs.map((doc) => ({
      _id: doc._id.toHexString(),
      userId: doc.userId,
      problemId: doc.problemId.toHexString(),
      status: doc.status === "Running" ? "Running" : "Pending",
      createdAt: doc.createdAt.toISOString(),
      updatedAt: doc.updatedAt.toISOString(),
    }));
  }

  async countActiveByUser(userId: string): Promise<number> {
    return this.collection.countDocuments({ userId, status: { $in: ACTIVE }, ...generationFilter(0) });
  }

  acceptedComparison(of: { problemId: string; language: Language; timeMs: number; memoryKb: number }): Promise<AcceptedComparison> {
    return acceptedComparison((filter) => this.collection.countDocuments(filter), { ...of, problemId: objectId(of.problemId) });
  }
}
