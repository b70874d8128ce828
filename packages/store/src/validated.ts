import { ACTIVE_STATUSES, isoDateSchema, objectIdSchema, submissionSchema, type Problem, type Submission } from "@sonocode/contracts";
import { z } from "zod";
import { checkWrite, toProblem, toSubmission } from "./documents.js";
import { normalizeId } from "./object-id.js";
import { toPublicProblemView } from "./public-problems.js";
import { validatedRejudgeRequests } from "./rejudge-requests.validated.js";
import { validatedRuns } from "./runs.validated.js";
import type { ActiveSubmissionRef, Page, ProblemRepository, RejudgeRepository, RejudgingRef, Store, StoreAdapter, SubmissionProgress, SubmissionRepository } from "./ports.js";

/**
 * The one validation layer every adapter leaves through (createStore applies it
 * once), so the adapters hold only their database's logic:
 * - ids: a malformed id is "not found" (null / false / an empty page) without a
 *   database round trip, and the adapter only ever sees the canonical lowercase form;
 * - writes: checked against the contracts' schemas first (ranges the types cannot
 *   promise), a failure being VALIDATION_FAILED (a 400) and nothing written;
 * - reads: every document is re-parsed with the contracts' schemas, so a row
 *   written by an older version or edited by hand fails loudly here rather than
 *   deep inside a service.
 * Order per call is id, then input, then the adapter: a malformed id with a bad
 * body answers "not found", as the HTTP layer expects.
 */
export function validated(adapter: StoreAdapter): Store {
  return {
    kind: adapter.kind,
    problems: validatedProblems(adapter.problems),
    submissions: validatedSubmissions(adapter.submissions),
    runs: validatedRuns(adapter.runs),
    rejudges: validatedRejudges(adapter.rejudges),
    rejudgeRequests: validatedRejudgeRequests(adapter.rejudgeRequests),
    ping: () => adapter.ping(),
    close: () => adapter.close(),
  };
}

const pageSchema = z.object({ items: z.array(z.unknown()), total: z.number().int().min(0) });
/** markRunning's narrow answer (SubmissionProgress), checked like a whole row would be. */
const progressSchema = submissionSchema.pick({ _id: true, userId: true, passed: true, total: true, rejudgeGeneration: true }).extend({ status: z.literal("Running") });
const finalizeSchema = z.object({ submission: z.unknown(), applied: z.boolean() }).nullable();
const activeRefSchema = z.object({
  _id: objectIdSchema,
  userId: z.string(),
  problemId: objectIdSchema,
  status: z.enum(ACTIVE_STATUSES),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
});
const activeRefsSchema = z.array(activeRefSchema);
const countSchema = z.number().int().min(0);
const admissionSchema = z.discriminatedUnion("admitted", [
  z.object({ admitted: z.literal(true), submission: z.unknown(), inFlight: countSchema }),
  z.object({ admitted: z.literal(false), inFlight: countSchema }),
]);
const booleanSchema = z.boolean();

function page<T>(raw: unknown, read: (item: unknown) => T): Page<T> {
  const { items, total } = pageSchema.parse(raw);
  return { items: items.map(read), total };
}

function nullable<T>(raw: unknown, read: (value: unknown) => T): T | null {
  return raw === null ? null : read(raw);
}

function validatedProblems(inner: StoreAdapter["problems"]): ProblemRepository {
  const read = (raw: unknown): Problem | null => nullable(raw, toProblem);
  return {
    create: async (input) => toProblem(await inner.create(checkWrite.problem(input))),
    findById: async (id) => {
      const key = normalizeId(id);
      return key === null ? null : read(await inner.findById(key));
    },
    list: async (query) => page(await inner.list(query), toProblem),
    findPublicById: async (id) => {
      const key = normalizeId(id);
      return key === null ? null : nullable(await inner.findPublicById(key), toPublicProblemView);
    },
    listPublic: async (query) => page(await inner.listPublic(query), toPublicProblemView),
    replace: async (id, input) => {
      const key = normalizeId(id);
      return key === null ? null : read(await inner.replace(key, checkWrite.problem(input)));
    },
    update: async (id, patch) => {
      const key = normalizeId(id);
      return key === null ? null : read(await inner.update(key, checkWrite.patch(patch)));
    },
    delete: async (id) => {
      const key = normalizeId(id);
      return key === null ? false : booleanSchema.parse(await inner.delete(key));
    },
  };
}

function validatedSubmissions(inner: StoreAdapter["submissions"]): SubmissionRepository {
  const read = (raw: unknown): Submission | null => nullable(raw, toSubmission);
  return {
    create: async (input) => toSubmission(await inner.create(checkWrite.submission(input))),
    findById: async (id) => {
      const key = normalizeId(id);
      return key === null ? null : read(await inner.findById(key));
    },
    listByUser: async (userId, query) => {
      if (query.problemId === undefined) return page(await inner.listByUser(userId, query), toSubmission);
      const problemId = normalizeId(query.problemId);
      if (problemId === null) return { items: [], total: 0 };
      return page(await inner.listByUser(userId, { ...query, problemId }), toSubmission);
    },
    markRunning: async (id, progress, generation) => {
      const key = normalizeId(id);
      if (key === null) return null;
      return nullable(await inner.markRunning(key, checkWrite.progress(progress), checkWrite.generation(generation)), (raw): SubmissionProgress => progressSchema.parse(raw));
    },
    finalize: async (id, verdict, generation) => {
      const key = normalizeId(id);
      if (key === null) return null;
      const result = finalizeSchema.parse(await inner.finalize(key, checkWrite.verdict(verdict), checkWrite.generation(generation)));
      return result === null ? null : { submission: toSubmission(result.submission), applied: result.applied };
    },
    delete: async (id) => {
      const key = normalizeId(id);
      return key === null ? false : booleanSchema.parse(await inner.delete(key));
    },
    listActive: async (query): Promise<ActiveSubmissionRef[]> => activeRefsSchema.parse(await inner.listActive(query)),
    countActiveByUser: async (userId) => countSchema.parse(await inner.countActiveByUser(userId)),
    createMany: async (inputs) => {
      // One bad input refuses the whole batch before the database sees any of it (all or nothing).
      const checked = inputs.map(checkWrite.submission);
      const rows = z.array(z.unknown()).length(checked.length).parse(await inner.createMany(checked));
      return rows.map(toSubmission);
    },
    admitMany: async (requests, maxInFlight) => {
      // As createMany: one bad input refuses the whole batch before the database sees any of it.
      const checked = requests.map(({ input, capped }) => ({ input: checkWrite.submission(input), capped }));
      const outcomes = z.array(admissionSchema).length(checked.length).parse(await inner.admitMany(checked, checkWrite.maxInFlight(maxInFlight)));
      return outcomes.map((outcome) => (outcome.admitted ? { admitted: true, submission: toSubmission(outcome.submission), inFlight: outcome.inFlight } : outcome));
    },
    acceptedComparison: async (of) => {
      const problemId = normalizeId(of.problemId);
      if (problemId === null) return { others: 0, slower: 0, moreMemory: 0 };
      return comparisonSchema.parse(await inner.acceptedComparison({ ...of, problemId }));
    },
  };
}

const comparisonSchema = z.object({ others: countSchema, slower: countSchema, moreMemory: countSchema });

const rejudgingRefsSchema = z.array(
  z.object({
    _id: objectIdSchema,
    problemId: objectIdSchema,
    status: z.enum(ACTIVE_STATUSES),
    rejudgeGeneration: z.number().int().min(1),
    rejudgedAt: isoDateSchema,
  }),
);

function validatedRejudges(inner: StoreAdapter["rejudges"]): RejudgeRepository {
  return {
    listRejudging: async (limit): Promise<RejudgingRef[]> => rejudgingRefsSchema.parse(await inner.listRejudging(checkWrite.pageLimit(limit))),
  };
}
