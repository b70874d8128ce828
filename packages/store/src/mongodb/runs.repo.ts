// Runs ("run code") on MongoDB: one document per run in their own collection. Expiry is a
// TTL index on expiresAt (MongoDB deletes them itself, within its minute-long TTL pass);
// deleteExpired() does the same on demand so both adapters behave alike in the sweep.
import type { NewRun, RunVerdict } from "@sonocode/contracts";
import { ObjectId, type Collection, type Db, type WithId } from "mongodb";
import type { RunCursor, RunRepository, Unverified } from "../ports.js";

const ACTIVE = ["Pending", "Running"];

interface RunDoc {
  _id: ObjectId;
  userId: string;
  problemId: string;
  language: string;
  status: string;
  compileOutput: string | null;
  results: unknown[];
  message: string | null;
  deadlineAt: Date;
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

function runFromDoc(doc: WithId<RunDoc>): Record<string, unknown> {
  return {
    ...doc,
    _id: doc._id.toHexString(),
    deadlineAt: doc.deadlineAt.toISOString(),
    expiresAt: doc.expiresAt.toISOString(),
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

function verdictSet(verdict: RunVerdict, at: Date): Partial<RunDoc> {
  return { status: verdict.status, compileOutput: verdict.compileOutput, results: verdict.results, message: verdict.message, updatedAt: at };
}

/** Indexes of the runs collection; createIndexes is idempotent for identical specs. */
export async function ensureRunIndexes(db: Db): Promise<void> {
  await db.collection<RunDoc>("runs").createIndexes([
    { key: { expiresAt: 1 }, name: "expiresAt_ttl", expireAfterSeconds: 0 },
    { key: { userId: 1, status: 1 }, name: "userId_status" },
    { key: { status: 1, deadlineAt: 1 }, name: "status_deadlineAt" },
  ]);
}

export class MongoRuns implements Unverified<RunRepository> {
  private readonly collection: Collection<RunDoc>;

  constructor(db: Db) {
    this.collection = db.collection<RunDoc>("runs");
  }

  async create(input: NewRun): Promise<Record<string, unknown>> {
    const now = new Date();
    const doc: RunDoc = {
      _id: new ObjectId(),
      userId: input.userId,
      problemId: input.problemId,
      language: input.language,
      status: "Pending",
      compileOutput: null,
      results: [],
      message: null,
      deadlineAt: new Date(input.deadlineAt),
      expiresAt: new Date(input.expiresAt),
      createdAt: now,
      updatedAt: now,
    };
    await this.collection.insertOne(doc);
    return runFromDoc(doc);
  }

  async findById(key: string): Promise<Record<string, unknown> | null> {
    const doc = await this.collection.findOne({ _id: new ObjectId(key) });
    return doc ? runFromDoc(doc) : null;
  }

  async finalize(key: string, verdict: RunVerdict): Promise<{ run: Record<string, unknown>; applied: boolean } | null> {
    const _id = new ObjectId(key);
    // Atomic per document: of concurrent finalizers only one matches the active-status filter.
    const doc = await this.collection.findOneAndUpdate({ _id, status: { $in: ACTIVE } }, { $set: verdictSet(verdict, new Date()) }, { returnDocument: "after" });
    if (doc) return { run: runFromDoc(doc), applied: true };
    const current = await this.collection.findOne({ _id });
    return current ? { run: runFromDoc(current), applied: false } : null;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.collection.deleteOne({ _id: new ObjectId(key) })).deletedCount === 1;
  }

  async countActiveByUser(userId: string): Promise<number> {
    return this.collection.countDocuments({ userId, status: { $in: ACTIVE } });
  }

  async listOverdue(now: string, limit: number, after?: RunCursor): Promise<Record<string, unknown>[]> {
    const page = after === undefined ? {} : { $or: [{ deadlineAt: { $gt: new Date(after.deadlineAt) } }, { deadlineAt: new Date(after.deadlineAt), _id: { $gt: new ObjectId(after.id) } }] };
    const docs = await this.collection.find({ status: { $in: ACTIVE }, deadlineAt: { $lt: new Date(now) }, ...page }).sort({ deadlineAt: 1, _id: 1 }).limit(limit).toArray();
    return docs.map(runFromDoc);
  }

  async deleteExpired(now: string): Promise<number> {
    return (await this.collection.deleteMany({ expiresAt: { $lt: new Date(now) } })).deletedCount;
  }
}
