import { problemStats } from "@sonocode/contracts";
import type { Collection, Document, Filter, ObjectId } from "mongodb";
import type { Page, ProblemListQuery } from "../ports.js";
import { PUBLIC_CHECKER_FIELDS } from "../public-problems.js";

/** An embedded document that is absent (missing or null) leaves the projection; anything else is rebuilt, so a malformed one fails validation. */
const unlessAbsent = (path: string, expression: Document): Document => ({
  $cond: [{ $in: [{ $type: path }, ["missing", "null"]] }, "$$REMOVE", expression],
});

/**
 * The public view, built by the server: the visible tests in their order ($filter keeps hidden
 * absent or false), each with only the fields toPublicProblem keeps ($map; a missing group
 * stays missing), their total ($size), and of the checker and interactor only what
 * publicChecker/publicInteractor read. The editorial, reference solution, test-set hash,
 * hidden tests and any checker or interactor code are never sent.
 */
const PUBLIC_PROJECTION: Document = {
  title: 1,
  description: 1,
  difficulty: 1,
  codeStubs: 1,
  timeLimitMs: 1,
  memoryLimitMb: 1,
  runAllTests: 1,
  languageLimits: 1,
  groups: 1,
  stats: 1,
  createdAt: 1,
  updatedAt: 1,
  checker: unlessAbsent("$checker", Object.fromEntries(PUBLIC_CHECKER_FIELDS.map((field) => [field, `$checker.${field}`]))),
  interactor: unlessAbsent("$interactor", { protocol: "$interactor.protocol" }),
  testCases: {
    $map: {
      input: { $filter: { input: "$testCases", as: "t", cond: { $ne: ["$$t.hidden", true] } } },
      as: "t",
      in: { input: "$$t.input", output: "$$t.output", hidden: false, group: "$$t.group" },
    },
  },
  totalTestCases: { $size: "$testCases" },
};

/** The same sort as the full list: newest first, _id breaking ties. */
const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

function publicProblemFromDoc(doc: Document): Record<string, unknown> {
  const { stats, _id, createdAt, updatedAt, ...rest } = doc as Document & { _id: { toHexString(): string }; createdAt: Date; updatedAt: Date; stats?: { submissions?: number; accepted?: number } };
  return {
    ...rest,
    _id: _id.toHexString(),
    stats: problemStats(stats?.submissions ?? 0, stats?.accepted ?? 0),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
  };
}

export async function findPublicProblem<D extends Document>(collection: Collection<D>, id: ObjectId): Promise<Record<string, unknown> | null> {
  const [doc] = await collection.aggregate([{ $match: { _id: id } }, { $limit: 1 }, { $project: PUBLIC_PROJECTION }]).toArray();
  return doc ? publicProblemFromDoc(doc) : null;
}

/** The same page as MongoProblems.list with the same filter (newest first, the same total), in the public view. */
export async function listPublicProblems<D extends Document>(collection: Collection<D>, filter: Filter<D>, query: ProblemListQuery): Promise<Page<Record<string, unknown>>> {
  const [docs, total] = await Promise.all([
    collection
      .aggregate([{ $match: filter }, { $sort: NEWEST_FIRST }, { $skip: (query.page - 1) * query.limit }, { $limit: query.limit }, { $project: PUBLIC_PROJECTION }])
      .toArray(),
    collection.countDocuments(filter),
  ]);
  return { items: docs.map(publicProblemFromDoc), total };
}
