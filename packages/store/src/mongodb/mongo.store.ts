import { MongoClient, type Db } from "mongodb";
import type { StoreAdapter } from "../ports.js";
import { MongoProblems, type ProblemDoc } from "./problems.repo.js";
import { MongoRejudgeRequests, ensureRejudgeRequestIndexes } from "./rejudge-requests.repo.js";
import { MongoRejudges } from "./rejudge.repo.js";
import { ensureRunIndexes, MongoRuns } from "./runs.repo.js";
import { ensureScoringIndexes } from "./scoring.repo.js";
import { MongoSubmissions, type SubmissionDoc } from "./submissions.repo.js";

/**
 * Indexes the judge's queries need. Each sort index ends with _id so the
 * newest-first tie-breaker is served by the index too (no in-memory sort).
 * createIndexes is idempotent for identical specs, so concurrent start-ups are safe.
 */
async function ensureIndexes(db: Db): Promise<void> {
  await Promise.all([
    ensureRunIndexes(db),
    ensureScoringIndexes(db),
    ensureRejudgeRequestIndexes(db),
    db.collection<SubmissionDoc>("submissions").createIndexes([
      { key: { userId: 1, problemId: 1, createdAt: -1, _id: -1 }, name: "userId_problemId_createdAt" },
      { key: { userId: 1, createdAt: -1, _id: -1 }, name: "userId_createdAt" },
      { key: { status: 1, createdAt: 1 }, name: "status_createdAt" },
      // The per-user in-flight cap (a partial index on $in would need MongoDB 6+).
      { key: { userId: 1, status: 1 }, name: "userId_status" },
      // Rejudges: one problem's submissions in id order, and the feeder's window.
      { key: { problemId: 1, _id: 1 }, name: "problemId_id" },
      { key: { rejudgedAt: 1, _id: 1 }, name: "rejudging", partialFilterExpression: { rejudgeGeneration: { $gt: 0 } } },
    ]),
    db.collection<ProblemDoc>("problems").createIndexes([
      { key: { difficulty: 1, createdAt: -1, _id: -1 }, name: "difficulty_createdAt" },
      { key: { createdAt: -1, _id: -1 }, name: "createdAt" },
    ]),
  ]);
}

/** Connects, creates indexes, and returns a store adapter; the client is closed if start-up fails. */
export async function createMongoStore(url: string, dbName: string): Promise<StoreAdapter> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  let db: Db;
  try {
    await client.connect();
    db = client.db(dbName);
    await ensureIndexes(db);
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  let closed = false;
  return {
    kind: "mongodb",
    problems: new MongoProblems(db.collection<ProblemDoc>("problems")),
    submissions: new MongoSubmissions(db.collection<SubmissionDoc>("submissions"), db.collection("problems")),
    runs: new MongoRuns(db),
    rejudges: new MongoRejudges(db.collection<SubmissionDoc>("submissions")),
    rejudgeRequests: new MongoRejudgeRequests(db),
    ping: async () => {
      await db.command({ ping: 1 });
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}
