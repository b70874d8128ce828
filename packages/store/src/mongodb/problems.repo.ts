import { problemStats, type Checker, type Difficulty, type Interactor, type Language, type LanguageLimits, type ProblemInput, type ProblemPatch, type ReferenceSolution, type TestGroup } from "@sonocode/contracts";
import { ObjectId, type Collection, type Filter, type UpdateFilter, type WithId } from "mongodb";
import { testSetHash } from "../documents.js";
import type { Page, ProblemListQuery, ProblemRepository, Unverified } from "../ports.js";
import { findPage, objectId } from "./collections.js";
import { findPublicProblem, listPublicProblems } from "./public-problems.repo.js";

/**
 * The original document model: ObjectId `_id` (and `problemId`), Date timestamps,
 * test cases and stubs embedded in the problem. Ids and dates are converted to
 * the contracts' hex strings and ISO strings only at this boundary.
 */
export interface ProblemDoc {
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

/** Documents with the contracts' string ids and ISO dates; validated() parses them. */
function problemFromDoc(doc: WithId<ProblemDoc>): Record<string, unknown> {
  const stats = problemStats(doc.stats?.submissions ?? 0, doc.stats?.accepted ?? 0);
  return { ...doc, _id: doc._id.toHexString(), stats, createdAt: doc.createdAt.toISOString(), updatedAt: doc.updatedAt.toISOString() };
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
export class MongoProblems implements Unverified<ProblemRepository> {
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

function pickDefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
