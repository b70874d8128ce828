import { problemStats } from "@sonocode/contracts";
import { isoDate } from "../documents.js";
import type { Page, ProblemListQuery } from "../ports.js";
import { PUBLIC_CHECKER_FIELDS } from "../public-problems.js";
import type { SqlExecutor } from "./sql-client.js";

/** A jsonb column that is absent as SQL NULL or as a JSON null. */
const absent = (column: string) => `(${column} IS NULL OR ${column} = 'null'::jsonb)`;

/**
 * The public view, built in the database: the visible tests in their order, each with only
 * the fields toPublicProblem keeps (hidden absent or false is visible; group only when set),
 * the test count, and of the checker and interactor only what publicChecker/publicInteractor
 * read. The editorial, reference solution, test-set hash, hidden tests and any checker or
 * interactor code are never selected. The jsonpath filter walks the array without copying
 * hidden tests (jsonb_array_elements over all of test_cases copied each one and cost ~3x more
 * on 500 x 18 KB); reading test_cases at all still detoasts it, which is this query's floor.
 */
const PUBLIC_COLUMNS = `id, title, description, difficulty, code_stubs, time_limit_ms, memory_limit_mb, run_all_tests,
  language_limits, test_groups, submission_count, accepted_count, created_at, updated_at,
  CASE WHEN ${absent("checker")} THEN NULL
       ELSE jsonb_strip_nulls(jsonb_build_object(${PUBLIC_CHECKER_FIELDS.map((field) => `'${field}', checker->'${field}'`).join(", ")})) END AS public_checker,
  CASE WHEN ${absent("interactor")} THEN NULL
       ELSE jsonb_strip_nulls(jsonb_build_object('protocol', interactor->'protocol')) END AS public_interactor,
  (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('input', t->'input', 'output', t->'output', 'hidden', false, 'group', t->'group')) ORDER BY n), '[]'::jsonb)
     FROM jsonb_array_elements(jsonb_path_query_array(test_cases, '$[*] ? (!(@.hidden == true))')) WITH ORDINALITY AS e(t, n)) AS public_tests,
  jsonb_array_length(test_cases) AS total_test_cases`;

interface PublicProblemRow {
  id: string;
  title: string;
  description: string;
  difficulty: string;
  code_stubs: unknown;
  time_limit_ms: number | null;
  memory_limit_mb: number | null;
  run_all_tests: boolean | null;
  language_limits: unknown;
  test_groups: unknown;
  submission_count: number;
  accepted_count: number;
  created_at: Date | string;
  updated_at: Date | string;
  public_checker: unknown;
  public_interactor: unknown;
  public_tests: unknown;
  total_test_cases: number;
}

/** Rows become the contracts' field names; validated() parses them (toPublicProblemView). */
function publicProblemFromRow(row: PublicProblemRow): Record<string, unknown> {
  return {
    _id: row.id,
    title: row.title,
    description: row.description,
    difficulty: row.difficulty,
    testCases: row.public_tests,
    codeStubs: row.code_stubs,
    timeLimitMs: row.time_limit_ms,
    memoryLimitMb: row.memory_limit_mb,
    checker: row.public_checker,
    runAllTests: row.run_all_tests,
    languageLimits: row.language_limits,
    groups: row.test_groups,
    interactor: row.public_interactor,
    stats: problemStats(row.submission_count, row.accepted_count),
    createdAt: isoDate(row.created_at),
    updatedAt: isoDate(row.updated_at),
    totalTestCases: row.total_test_cases,
  };
}

export async function findPublicProblem(db: SqlExecutor, key: string): Promise<Record<string, unknown> | null> {
  const { rows } = await db.query<PublicProblemRow>(`SELECT ${PUBLIC_COLUMNS} FROM problems WHERE id = $1`, [key]);
  return rows[0] ? publicProblemFromRow(rows[0]) : null;
}

/** The same page as PostgresProblems.list (newest first, the same total), in the public view. */
export async function listPublicProblems(db: SqlExecutor, query: ProblemListQuery): Promise<Page<Record<string, unknown>>> {
  const where = query.difficulty ? "WHERE difficulty = $1" : "";
  const params: unknown[] = query.difficulty ? [query.difficulty] : [];
  const n = params.length;
  const [items, count] = await Promise.all([
    db.query<PublicProblemRow>(`SELECT ${PUBLIC_COLUMNS} FROM problems ${where} ORDER BY created_at DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...params,
      query.limit,
      (query.page - 1) * query.limit,
    ]),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM problems ${where}`, params),
  ]);
  return { items: items.rows.map(publicProblemFromRow), total: count.rows[0]?.total ?? 0 };
}
