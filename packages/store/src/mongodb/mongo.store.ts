import {
  ACTIVE_STATUSES,
  problemStats,
  type AcceptedComparison,
  type GroupResult,
  type Checker,
  type LanguageLimits,
  type ReferenceSolution,
  type Interactor,
  type TestGroup,
  type Difficulty,
  type FailedTest,
  type Language,
  type NewSubmission,
  type PaginationQuery,
  type ProblemInput,
  type ProblemPatch,
  type SubmissionListQuery,
  type SubmissionStatus,
  type FinalStatus,
  type TestResult,
  type VerdictFields,
} from "@sonocode/contracts";
// The driver's own ObjectId (a re-export of bson), so instanceof checks inside the driver hold.
import { MongoClient, ObjectId, type Collection, type Db, type Document, type Filter, type UpdateFilter, type WithId } from "mongodb";
import { testSetHash } from "../documents.js";
import { normalizeId } from "../object-id.js";
import { ensureRunIndexes, MongoRuns } from "./runs.repo.js";
import { countByUsers, insertAllOrNone } from "./submissions.batch.js";
import { generationFilter, MongoRejudges } from "./rejudge.repo.js";
import { ensureRejudgeRequestIndexes, MongoRejudgeRequests } from "./rejudge-requests.repo.js";
import { acceptedComparison, ensureScoringIndexes, moveProblemStats } from "./scoring.repo.js";
import type { ActiveSubmissionQuery, ActiveSubmissionRef, Page, ProblemListQuery, ProblemRepository, StoreAdapter, SubmissionRepository, Unverified } from "../ports.js";
import { findPublicProblem, listPublicProblems } from "./public-problems.repo.js";

/**
 * The original document model: ObjectId `_id` (and `problemId`), Date timestamps,
 * test cases and stubs embedded in the problem. Ids and dates are converted to
 * the contracts' hex strings and ISO strings only at this boundary.
 */
interface ProblemDoc {
  _id: ObjectId;
  title: string;
  description: string;
  difficulty: Difficulty;
  testCases: { input: string; output: string; hidden: boolean; group?: string }[];
  codeStubs: { language: Language; startSnippet: string; userSnippet: string; endSnippet: string }[];
  editorial?: string;
  timeLimitMs?: number;
  memoryLimitMb?: number;
  checker?: Checker;
  runAllTests?: boolean;
  referenceSolution?: ReferenceSolution;
  languageLimits?: LanguageLimits;
  groups?: TestGroup[];
  interactor?: Interactor;
  /** Content hash of testCases, written with them (absent on documents from before it existed). */
  testSetHash?: string;
  /** Judged and accepted submissions ($inc by finalize; absent until the first). */
  stats?: { submissions?: number; accepted?: number };
  createdAt: Date;
  updatedAt: Date;
}

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

const PROBLEM_FIELDS = [
  "title",
  "description",
  "difficulty",
  "testCases",
  "codeStubs",
  "editorial",
  "timeLimitMs",
  "memoryLimitMb",
  "checker",
  "runAllTests",
  "referenceSolution",
  "languageLimits",
  "groups",
  "interactor",
] as const satisfies readonly (keyof ProblemInput)[];
type ProblemField = (typeof PROBLEM_FIELDS)[number];

const ACTIVE: SubmissionStatus[] = [...ACTIVE_STATUSES];
/** Newest first; _id breaks ties between documents created in the same millisecond. */
const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

/** Ids reach the adapter canonical (validated() answers "not found" for the rest). */
function objectId(key: string): ObjectId {
  return ObjectId.createFromHexString(key);
}

/** One page, newest first, with the total matching the filter; the count runs alongside the find. */
async function findPage<D extends Document, T>(collection: Collection<D>, filter: Filter<D>, query: PaginationQuery, map: (doc: WithId<D>) => T): Promise<Page<T>> {
  const [docs, total] = await Promise.all([
    collection
      .find(filter)
      .sort(NEWEST_FIRST)
      .skip((query.page - 1) * query.limit)
      .limit(query.limit)
      .toArray(),
    collection.countDocuments(filter),
  ]);
  return { items: docs.map(map), total };
}

/** Documents with the contracts' string ids and ISO dates; validated() parses them. */
function problemFromDoc(doc: WithId<ProblemDoc>): Record<string, unknown> {
  const stats = problemStats(doc.stats?.submissions ?? 0, doc.stats?.accepted ?? 0);
  return { ...doc, _id: doc._id.toHexString(), stats, createdAt: doc.createdAt.toISOString(), updatedAt: doc.updatedAt.toISOString() };
}

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

/** $set for the given fields, plus $unset for those given as undefined when `unsetMissing` (PUT semantics). */
function problemUpdate(fields: Partial<ProblemInput>, unsetMissing: boolean): UpdateFilter<ProblemDoc> {
  const set: Record<string, unknown> = { updatedAt: new Date() };
  const unset: Record<string, ""> = {};
  for (const field of PROBLEM_FIELDS) {
    const value = fields[field];
    if (value !== undefined) set[field] = value;
    else if (unsetMissing) unset[field] = "";
  }
  if (fields.testCases !== undefined) set["testSetHash"] = testSetHash(fields.testCases);
  // An empty $unset is rejected by servers before 5.0, so it is only sent when needed.
  return (Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set }) as UpdateFilter<ProblemDoc>;
}

function problemFilter(query: ProblemListQuery): Filter<ProblemDoc> {
  return query.difficulty ? { difficulty: query.difficulty } : {};
}

/** Ids arrive canonical and inputs checked (validated() does both before calling). */
class MongoProblems implements Unverified<ProblemRepository> {
  constructor(private readonly collection: Collection<ProblemDoc>) {}

  async create(input: ProblemInput): Promise<Record<string, unknown>> {
    const now = new Date();
    const doc: ProblemDoc = { _id: new ObjectId(), ...pickDefined(input), testSetHash: testSetHash(input.testCases), createdAt: now, updatedAt: now } as ProblemDoc;
    await this.collection.insertOne(doc);
    return problemFromDoc(doc);
  }

  async findById(key: string): Promise<Record<string, unknown> | null> {
    const doc = await this.collection.findOne({ _id: objectId(key) });
    return doc ? problemFromDoc(doc) : null;
  }

  async list(query: ProblemListQuery): Promise<Page<Record<string, unknown>>> {
    return findPage(this.collection, problemFilter(query), query, problemFromDoc);
  }

  findPublicById(key: string): Promise<Record<string, unknown> | null> {
    return findPublicProblem(this.collection, objectId(key));
  }

  listPublic(query: ProblemListQuery): Promise<Page<Record<string, unknown>>> {
    return listPublicProblems(this.collection, problemFilter(query), query);
  }

  async replace(key: string, input: ProblemInput): Promise<Record<string, unknown> | null> {
    return this.apply(key, problemUpdate(input, true));
  }

  async update(key: string, patch: ProblemPatch): Promise<Record<string, unknown> | null> {
    return this.apply(key, problemUpdate(patch, false));
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.collection.deleteOne({ _id: objectId(key) });
    return result.deletedCount === 1;
  }

  private async apply(key: string, update: UpdateFilter<ProblemDoc>): Promise<Record<string, unknown> | null> {
    // Updating (not replacing) the document keeps _id and createdAt by construction.
    const doc = await this.collection.findOneAndUpdate({ _id: objectId(key) }, update, { returnDocument: "after" });
    return doc ? problemFromDoc(doc) : null;
  }
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

class MongoSubmissions implements Unverified<SubmissionRepository> {
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

  async countActiveByUsers(userIds: string[]): Promise<{ userId: string; total: number }[]> {
    // The same in-flight filter as countActiveByUser: the cap must count alike on both paths.
    return countByUsers(this.collection, userIds, { status: { $in: ACTIVE }, ...generationFilter(0) });
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
      { returnDocument: "after" },
    );
    return doc ? submissionFromDoc(doc) : null;
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

function pickDefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

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
