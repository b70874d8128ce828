import {
  problemStats,
  type AcceptedComparison,
  type Difficulty,
  type Language,
  type NewSubmission,
  type PaginationQuery,
  type ProblemInput,
  type ProblemPatch,
  type SubmissionListQuery,
  type VerdictFields,
} from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { isoDate, testSetHash } from "../documents.js";
import { newObjectId } from "../object-id.js";
import type { ActiveSubmissionQuery, ActiveSubmissionRef, Page, ProblemListQuery, ProblemRepository, StoreAdapter, SubmissionRepository, Unverified } from "../ports.js";
import { findPublicProblem, listPublicProblems } from "./public-problems.repo.js";
import { runMigrations } from "./migrations.js";
import { acceptedComparison, finalizeWithStats } from "./scoring.repo.js";
import { PostgresRuns } from "./runs.repo.js";
import { countActiveByUsers, insertSubmissions } from "./submissions.batch.js";
import { PostgresRejudges } from "./rejudge.repo.js";
import { PostgresRejudgeRequests } from "./rejudge-requests.repo.js";
import type { SqlClient, SqlExecutor } from "./sql-client.js";

/** Problem fields and their columns; `json` columns are written as `$n::jsonb`. */
const PROBLEM_COLUMNS = {
  title: { column: "title", json: false },
  description: { column: "description", json: false },
  difficulty: { column: "difficulty", json: false },
  testCases: { column: "test_cases", json: true },
  codeStubs: { column: "code_stubs", json: true },
  editorial: { column: "editorial", json: false },
  timeLimitMs: { column: "time_limit_ms", json: false },
  memoryLimitMb: { column: "memory_limit_mb", json: false },
  checker: { column: "checker", json: true },
  runAllTests: { column: "run_all_tests", json: false },
  referenceSolution: { column: "reference_solution", json: true },
  languageLimits: { column: "language_limits", json: true },
  groups: { column: "test_groups", json: true },
  interactor: { column: "interactor", json: true },
} as const satisfies Record<keyof ProblemInput, { column: string; json: boolean }>;

type ProblemField = keyof typeof PROBLEM_COLUMNS;
const PROBLEM_FIELDS = Object.keys(PROBLEM_COLUMNS) as ProblemField[];

const ACTIVE = "('Pending', 'Running')";

interface ProblemRow {
  id: string;
  title: string;
  description: string;
  difficulty: string;
  test_cases: unknown;
  code_stubs: unknown;
  editorial: string | null;
  time_limit_ms: number | null;
  memory_limit_mb: number | null;
  checker: unknown;
  run_all_tests: boolean | null;
  reference_solution: unknown;
  language_limits: unknown;
  test_groups: unknown;
  interactor: unknown;
  test_set_hash: string | null;
  submission_count: number;
  accepted_count: number;
  created_at: Date | string;
  updated_at: Date | string;
}

/** A row of the submissions table, as the driver returns it. */
export interface SubmissionRow {
  id: string;
  user_id: string;
  problem_id: string;
  language: string;
  code: string;
  status: string;
  passed: number;
  total: number;
  time_ms: number | null;
  memory_kb: number | null;
  results: unknown;
  compile_output: string | null;
  failed_test: unknown;
  message: string | null;
  score: number | null;
  group_results: unknown;
  previous_status: string | null;
  rejudged_at: Date | string | null;
  rejudge_generation: number;
  created_at: Date | string;
  updated_at: Date | string;
}

/** Rows become the contracts' field names; validated() parses them (drops the NULL optionals, checks every field). */
function problemFromRow(row: ProblemRow): Record<string, unknown> {
  return {
    _id: row.id,
    title: row.title,
    description: row.description,
    difficulty: row.difficulty,
    testCases: row.test_cases,
    codeStubs: row.code_stubs,
    editorial: row.editorial,
    timeLimitMs: row.time_limit_ms,
    memoryLimitMb: row.memory_limit_mb,
    checker: row.checker,
    runAllTests: row.run_all_tests,
    referenceSolution: row.reference_solution,
    languageLimits: row.language_limits,
    groups: row.test_groups,
    interactor: row.interactor,
    testSetHash: row.test_set_hash,
    stats: problemStats(row.submission_count, row.accepted_count),
    createdAt: isoDate(row.created_at),
    updatedAt: isoDate(row.updated_at),
  };
}

function submissionFromRow(row: SubmissionRow): Record<string, unknown> {
  return {
    _id: row.id,
    userId: row.user_id,
    problemId: row.problem_id,
    language: row.language,
    code: row.code,
    status: row.status,
    passed: row.passed,
    total: row.total,
    timeMs: row.time_ms,
    memoryKb: row.memory_kb,
    results: row.results,
    compileOutput: row.compile_output,
    failedTest: row.failed_test,
    message: row.message,
    // NULL until judged (and for IE): absent, as the contract has it.
    ...(row.score === null ? {} : { score: row.score }),
    ...(row.group_results === null ? {} : { groups: row.group_results }),
    // Rejudge fields only on rows that were rejudged, so a never-rejudged submission reads as before.
    ...(row.rejudge_generation > 0
      ? { previousStatus: row.previous_status, rejudgedAt: row.rejudged_at === null ? null : isoDate(row.rejudged_at), rejudgeGeneration: row.rejudge_generation }
      : {}),
    createdAt: isoDate(row.created_at),
    updatedAt: isoDate(row.updated_at),
  };
}

/** The SQL parameter for one problem field: JSON text for jsonb columns, null for absent optionals. */
function problemParam(field: ProblemField, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  return PROBLEM_COLUMNS[field].json ? JSON.stringify(value) : value;
}

function placeholder(field: ProblemField, index: number): string {
  return PROBLEM_COLUMNS[field].json ? `$${index}::jsonb` : `$${index}`;
}

/** One page, newest first, with the total matching `where`; LIMIT and OFFSET take the next two placeholders. */
async function selectPage<R extends object, T>(
  db: SqlExecutor,
  table: "problems" | "submissions",
  where: string,
  params: unknown[],
  query: PaginationQuery,
  map: (row: R) => T,
): Promise<Page<T>> {
  const n = params.length;
  const [items, count] = await Promise.all([
    db.query<R>(`SELECT * FROM ${table} ${where} ORDER BY created_at DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...params, query.limit, (query.page - 1) * query.limit]),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM ${table} ${where}`, params),
  ]);
  return { items: items.rows.map(map), total: count.rows[0]?.total ?? 0 };
}

/** Ids arrive canonical and inputs checked (validated() does both before calling). */
class PostgresProblems implements Unverified<ProblemRepository> {
  constructor(private readonly db: SqlExecutor) {}

  async create(input: ProblemInput): Promise<Record<string, unknown>> {
    const now = new Date().toISOString();
    const params: unknown[] = [newObjectId(), now, now];
    const columns = ["id", "created_at", "updated_at"];
    const values = ["$1", "$2::timestamptz", "$3::timestamptz"];
    for (const field of PROBLEM_FIELDS) {
      params.push(problemParam(field, input[field]));
      columns.push(PROBLEM_COLUMNS[field].column);
      values.push(placeholder(field, params.length));
    }
    params.push(testSetHash(input.testCases));
    columns.push("test_set_hash");
    values.push(`$${params.length}`);
    const { rows } = await this.db.query<ProblemRow>(
      `INSERT INTO problems (${columns.join(", ")}) VALUES (${values.join(", ")}) RETURNING *`,
      params,
    );
    return problemFromRow(rows[0]!);
  }

  async findById(key: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.db.query<ProblemRow>("SELECT * FROM problems WHERE id = $1", [key]);
    return rows[0] ? problemFromRow(rows[0]) : null;
  }

  async list(query: PaginationQuery & { difficulty?: Difficulty | undefined }): Promise<Page<Record<string, unknown>>> {
    const where = query.difficulty ? "WHERE difficulty = $1" : "";
    const filter = query.difficulty ? [query.difficulty] : [];
    return selectPage(this.db, "problems", where, filter, query, problemFromRow);
  }

  findPublicById(key: string): Promise<Record<string, unknown> | null> {
    return findPublicProblem(this.db, key);
  }

  listPublic(query: ProblemListQuery): Promise<Page<Record<string, unknown>>> {
    return listPublicProblems(this.db, query);
  }

  async replace(key: string, input: ProblemInput): Promise<Record<string, unknown> | null> {
    // Every field is written; absent optionals become NULL (i.e. removed).
    return this.set(key, PROBLEM_FIELDS.map((field) => [field, input[field]]));
  }

  async update(key: string, patch: ProblemPatch): Promise<Record<string, unknown> | null> {
    const entries = PROBLEM_FIELDS.filter((field) => patch[field] !== undefined).map((field): [ProblemField, unknown] => [field, patch[field]]);
    return this.set(key, entries);
  }

  async delete(key: string): Promise<boolean> {
    const { rows } = await this.db.query("DELETE FROM problems WHERE id = $1 RETURNING id", [key]);
    return rows.length > 0;
  }

  private async set(key: string, entries: readonly (readonly [ProblemField, unknown])[]): Promise<Record<string, unknown> | null> {
    const params: unknown[] = [key, new Date().toISOString()];
    const assignments = ["updated_at = $2::timestamptz"];
    for (const [field, value] of entries) {
      params.push(problemParam(field, value));
      assignments.push(`${PROBLEM_COLUMNS[field].column} = ${placeholder(field, params.length)}`);
      if (field === "testCases") {
        params.push(testSetHash(value as ProblemInput["testCases"]));
        assignments.push(`test_set_hash = $${params.length}`);
      }
    }
    const { rows } = await this.db.query<ProblemRow>(`UPDATE problems SET ${assignments.join(", ")} WHERE id = $1 RETURNING *`, params);
    return rows[0] ? problemFromRow(rows[0]) : null;
  }
}

class PostgresSubmissions implements Unverified<SubmissionRepository> {
  constructor(private readonly db: SqlExecutor) {}

  async create(input: NewSubmission): Promise<Record<string, unknown>> {
    const now = new Date().toISOString();
    const { rows } = await this.db.query<SubmissionRow>(
      `INSERT INTO submissions (id, user_id, problem_id, language, code, status, passed, total, results, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'Pending', 0, $6, '[]'::jsonb, $7::timestamptz, $7::timestamptz)
       RETURNING *`,
      [newObjectId(), input.userId, input.problemId, input.language, input.code, input.total, now],
    );
    return submissionFromRow(rows[0]!);
  }

  createMany(inputs: NewSubmission[]): Promise<Record<string, unknown>[]> {
    return insertSubmissions(this.db, inputs, submissionFromRow);
  }

  async findById(key: string): Promise<Record<string, unknown> | null> {
    return this.read(key);
  }

  async listByUser(userId: string, query: SubmissionListQuery): Promise<Page<Record<string, unknown>>> {
    const params: unknown[] = [userId];
    let where = "WHERE user_id = $1";
    if (query.problemId !== undefined) {
      params.push(query.problemId);
      where += " AND problem_id = $2";
    }
    return selectPage(this.db, "submissions", where, params, query, submissionFromRow);
  }

  async markRunning(key: string, progress: { passed: number; total: number }, generation?: number): Promise<Record<string, unknown> | null> {
    // The status guard is in the WHERE clause, so a late progress event racing a
    // final result can never move a final submission back to Running; the passed
    // guard drops a progress event overtaken by a newer one (consumed concurrently).
    const { rows } = await this.db.query<SubmissionRow>(
      `UPDATE submissions SET status = 'Running', passed = $2, total = $3, updated_at = $4::timestamptz
       WHERE id = $1 AND status IN ${ACTIVE} AND (status = 'Pending' OR passed <= $2) AND ($5::int IS NULL OR rejudge_generation = $5) RETURNING *`,
      [key, progress.passed, progress.total, new Date().toISOString(), generation ?? null],
    );
    return rows[0] ? submissionFromRow(rows[0]) : null;
  }

  async finalize(key: string, v: VerdictFields, generation?: number): Promise<{ submission: Record<string, unknown>; applied: boolean } | null> {
    // One conditional statement: row locking makes concurrent finalizers queue on the
    // row, and the loser re-checks the WHERE against the committed final status
    // and updates nothing. No read-modify-write window exists. The problem's
    // statistics move in the same statement (finalizeWithStats).
    const { rows } = await this.db.query<SubmissionRow>(
      finalizeWithStats(
        `status = $2, passed = $3, total = $4, time_ms = $5, memory_kb = $6, results = $7::jsonb,
         compile_output = $8, failed_test = $9::jsonb, message = $10, updated_at = $11::timestamptz,
         score = $13, group_results = $14::jsonb, stats_status = $2`,
        `id = $1 AND status IN ${ACTIVE} AND ($12::int IS NULL OR rejudge_generation = $12)`,
      ),
      [
        key,
        v.status,
        v.passed,
        v.total,
        v.timeMs,
        v.memoryKb,
        JSON.stringify(v.results),
        v.compileOutput,
        v.failedTest === null ? null : JSON.stringify(v.failedTest),
        v.message ?? null,
        new Date().toISOString(),
        generation ?? null,
        v.score ?? null,
        v.groups === undefined ? null : JSON.stringify(v.groups),
      ],
    );
    if (rows[0]) return { submission: submissionFromRow(rows[0]), applied: true };
    const current = await this.read(key);
    return current ? { submission: current, applied: false } : null;
  }

  async delete(key: string): Promise<boolean> {
    const { rows } = await this.db.query("DELETE FROM submissions WHERE id = $1 RETURNING id", [key]);
    return rows.length > 0;
  }

  async listActive(query: ActiveSubmissionQuery): Promise<ActiveSubmissionRef[]> {
    const params: unknown[] = [query.createdBefore];
    // Rejudges in progress belong to the rejudge feeder, not to the reconciler.
    let where = `status IN ${ACTIVE} AND rejudge_generation = 0 AND created_at < $1::timestamptz`;
    if (query.after) {
      params.push(query.after.createdAt, query.after.id);
      where += " AND (created_at, id) > ($2::timestamptz, $3)";
    }
    params.push(query.limit);
    const { rows } = await this.db.query<Pick<SubmissionRow, "id" | "user_id" | "problem_id" | "status" | "created_at" | "updated_at">>(
      `SELECT id, user_id, problem_id, status, created_at, updated_at FROM submissions WHERE ${where} ORDER BY created_at, id LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      _id: row.id,
      userId: row.user_id,
      problemId: row.problem_id,
      status: row.status === "Running" ? "Running" : "Pending",
      createdAt: isoDate(row.created_at),
      updatedAt: isoDate(row.updated_at),
    }));
  }

  async countActiveByUser(userId: string): Promise<number> {
    const { rows } = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM submissions WHERE user_id = $1 AND status IN ${ACTIVE} AND rejudge_generation = 0`, [userId]);
    return rows[0]?.total ?? 0;
  }

  countActiveByUsers(userIds: string[]): Promise<{ userId: string; total: number }[]> {
    // The same in-flight predicate as countActiveByUser: the cap must count alike on both paths.
    return countActiveByUsers(this.db, userIds, `status IN ${ACTIVE} AND rejudge_generation = 0`);
  }

  acceptedComparison(of: { problemId: string; language: Language; timeMs: number; memoryKb: number }): Promise<AcceptedComparison> {
    return acceptedComparison(this.db, of);
  }

  private async read(key: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.db.query<SubmissionRow>("SELECT * FROM submissions WHERE id = $1", [key]);
    return rows[0] ? submissionFromRow(rows[0]) : null;
  }
}

/**
 * SQLSTATEs PostgreSQL raises for text it cannot store: a NUL character in text
 * (22021) or jsonb (22P05), and an unpaired UTF-16 surrogate escape in jsonb (22P02;
 * the only casts of client data in these queries are to jsonb).
 */
const UNSTORABLE_TEXT_ERRORS = new Set(["22021", "22P05", "22P02"]);

/**
 * PostgreSQL text and jsonb cannot hold U+0000 (nor jsonb a lone surrogate), which the contracts' strings
 * allow. Such input is the client's fault, so it becomes a 400 with a clear
 * message instead of an opaque 500 (MongoDB stores it as is).
 */
function withInputErrors(db: SqlExecutor): SqlExecutor {
  return {
    query: async <R extends object>(text: string, params?: readonly unknown[]) => {
      try {
        return await db.query<R>(text, params);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code === "string" && UNSTORABLE_TEXT_ERRORS.has(code)) {
          throw new AppError("VALIDATION_FAILED", "text must not contain NUL (\\u0000) characters or unpaired surrogates", { cause: error });
        }
        throw error;
      }
    },
  };
}

/** A store adapter over PGlite or a PostgreSQL server. Migrates before returning; closes the client if that fails. */
export async function createPostgresStore(client: SqlClient): Promise<StoreAdapter> {
  try {
    await runMigrations(client);
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  const db = withInputErrors(client);
  const problems = new PostgresProblems(db);
  const submissions = new PostgresSubmissions(db);
  return {
    kind: client.dialect,
    problems,
    submissions,
    runs: new PostgresRuns(db),
    rejudges: new PostgresRejudges(db),
    rejudgeRequests: new PostgresRejudgeRequests(db),
    ping: async () => {
      await client.query("SELECT 1");
    },
    close: () => client.close(),
  };
}
