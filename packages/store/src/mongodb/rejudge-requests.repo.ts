import { ACTIVE_STATUSES, type RejudgeState, type SubmissionStatus } from "@sonocode/contracts";
import { MongoServerError, ObjectId, type Collection, type Db, type Filter } from "mongodb";
import type { RejudgeRequestRepository, Unverified } from "../ports.js";
import { rejudgeContended } from "../rejudge.errors.js";

const ACTIVE: SubmissionStatus[] = [...ACTIVE_STATUSES];
const DUPLICATE_KEY = 11_000;

interface RejudgeDoc {
  _id: ObjectId;
  problemId: ObjectId;
  status: RejudgeState;
  queued: number;
  marked: number;
  /** The newest submission when requested (the walk ends there); null: there were none. */
  lastId: ObjectId | null;
  /** The last submission walked; null before the first page. */
  afterId: ObjectId | null;
  requestedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  markedAt: Date | null;
}

/** The fields of a submission document this file reads and writes (mongo.store.ts has the rest). */
interface MarkedSubmissionDoc {
  _id: ObjectId;
  problemId: ObjectId;
  status: SubmissionStatus;
  rejudgeGeneration?: number;
  /** Which rejudge last moved it back to Pending (absent: none since this field exists). */
  rejudgeId?: ObjectId;
  /** The createdAt of that rejudge (absent or null: never rejudged). */
  rejudgedAt?: Date | null;
}

/**
 * Indexes of the MongoDB equivalent of migration 9: at most one rejudge marking a problem
 * (a unique partial index, so two racing requests cannot both insert one), and the count of a
 * rejudge's submissions still to finish.
 */
export async function ensureRejudgeRequestIndexes(db: Db): Promise<void> {
  await Promise.all([
    db.collection<RejudgeDoc>("rejudges").createIndexes([
      { key: { problemId: 1 }, name: "marking_problem", unique: true, partialFilterExpression: { status: "marking" } },
      { key: { status: 1, createdAt: 1, _id: 1 }, name: "status_createdAt" },
    ]),
    db.collection<MarkedSubmissionDoc>("submissions").createIndexes([
      { key: { rejudgeId: 1, status: 1 }, name: "rejudgeId_status", partialFilterExpression: { rejudgeGeneration: { $gt: 0 } } },
    ]),
  ]);
}

/**
 * Rejudge requests on MongoDB. Without a transaction a step is two writes: the page's
 * updateMany (each document once: the filter skips those already carrying this rejudge's id),
 * then the request's position, moved only from where this step read it. A crash between the two
 * redoes the page on resume and moves nothing twice. `marked` grows with the position, by the
 * page's documents carrying this rejudge's id (not by what this step modified), so a redone or
 * raced page still counts exactly once, as on PostgreSQL.
 */
export class MongoRejudgeRequests implements Unverified<RejudgeRequestRepository> {
  private readonly rejudges: Collection<RejudgeDoc>;
  private readonly submissions: Collection<MarkedSubmissionDoc>;

  constructor(db: Db) {
    this.rejudges = db.collection<RejudgeDoc>("rejudges");
    this.submissions = db.collection<MarkedSubmissionDoc>("submissions");
  }

  private async view(doc: RejudgeDoc): Promise<Record<string, unknown>> {
    const pending = await this.submissions.countDocuments({ rejudgeId: doc._id, status: { $in: ACTIVE }, rejudgeGeneration: { $gt: 0 } });
    return {
      _id: doc._id.toHexString(),
      problemId: doc.problemId.toHexString(),
      status: doc.status,
      queued: doc.queued,
      marked: doc.marked,
      pending,
      requestedBy: doc.requestedBy,
      createdAt: doc.createdAt.toISOString(),
      updatedAt: doc.updatedAt.toISOString(),
      markedAt: doc.markedAt?.toISOString() ?? null,
    };
  }

  async request(problemId: string, input: { at: string; requestedBy: string | null }): Promise<{ rejudge: Record<string, unknown>; created: boolean }> {
    const problem = ObjectId.createFromHexString(problemId);
    for (let attempt = 0; attempt < 3; attempt++) {
      // A repeated request (the usual retry) finds the one marking before paying for the count.
      const existing = await this.rejudges.findOne({ problemId: problem, status: "marking" });
      if (existing) return { rejudge: await this.view(existing), created: false };
      const [queued, newest] = await Promise.all([
        this.submissions.countDocuments({ problemId: problem }),
        this.submissions.find({ problemId: problem }, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next(),
      ]);
      const at = new Date(input.at);
      const doc: RejudgeDoc = { _id: new ObjectId(), problemId: problem, status: "marking", queued, marked: 0, lastId: newest?._id ?? null, afterId: null, requestedBy: input.requestedBy, createdAt: at, updatedAt: at, markedAt: null };
      try {
        await this.rejudges.insertOne(doc);
        return { rejudge: await this.view(doc), created: true };
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
      }
      // Another request inserted one between the read and the insert; it may even be marked by now: read again.
    }
    throw rejudgeContended(problemId);
  }

  async markNext(rejudgeId: string, limit: number, at: string): Promise<{ moved: number; done: boolean } | null> {
    const id = ObjectId.createFromHexString(rejudgeId);
    const rejudge = await this.rejudges.findOne({ _id: id, status: "marking" });
    if (!rejudge) return null;
    const now = new Date(at);
    let ids: ObjectId[] = [];
    if (rejudge.lastId !== null) {
      const range: Filter<MarkedSubmissionDoc>["_id"] = rejudge.afterId === null ? { $lte: rejudge.lastId } : { $gt: rejudge.afterId, $lte: rejudge.lastId };
      const page = await this.submissions.find({ problemId: rejudge.problemId, _id: range }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray();
      ids = page.map((doc) => doc._id);
    }
    let moved = 0;
    if (ids.length > 0) {
      // Never a later rejudge's documents: a step that stalled past this rejudge's end (another
      // replica finished it, and a new one of the problem began marking) finds them newer.
      const result = await this.submissions.updateMany({ _id: { $in: ids }, rejudgeId: { $ne: id }, $or: [{ rejudgedAt: null }, { rejudgedAt: { $lte: rejudge.createdAt } }] }, [
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
            // The request's time on every page: the feeder's window takes one request in id order.
            rejudgedAt: rejudge.createdAt,
            rejudgeGeneration: { $add: [{ $ifNull: ["$rejudgeGeneration", 0] }, 1] },
            rejudgeId: id,
            updatedAt: now,
          },
        },
      ]);
      moved = result.modifiedCount;
    }
    const done = ids.length < limit;
    // The page's documents now carrying this rejudge, whoever moved them (this step, a racing one, or one that crashed before advancing).
    const counted = ids.length === 0 ? 0 : await this.submissions.countDocuments({ _id: { $in: ids }, rejudgeId: id });
    const advanced = await this.rejudges.updateOne(
      { _id: id, status: "marking", afterId: rejudge.afterId },
      {
        $set: { afterId: ids.at(-1) ?? rejudge.afterId, status: done ? "marked" : "marking", markedAt: done ? now : null, updatedAt: now },
        $inc: { marked: counted },
      },
    );
    // Another replica advanced it first (its step covered this page): nothing of this step is lost.
    if (advanced.modifiedCount === 0) return { moved, done: false };
    return { moved, done };
  }

  async findById(rejudgeId: string): Promise<Record<string, unknown> | null> {
    const doc = await this.rejudges.findOne({ _id: ObjectId.createFromHexString(rejudgeId) });
    return doc ? this.view(doc) : null;
  }

  async listMarking(limit: number): Promise<Record<string, unknown>[]> {
    const docs = await this.rejudges
      .find({ status: "marking" }, { projection: { _id: 1, problemId: 1, queued: 1, marked: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => ({ _id: doc._id.toHexString(), problemId: doc.problemId.toHexString(), queued: doc.queued, marked: doc.marked }));
  }
}
