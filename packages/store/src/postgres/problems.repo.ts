import { problemStats, type Difficulty, type PaginationQuery, type ProblemInput, type ProblemPatch } from "@sonocode/contracts";
import { isoDate, testSetHash } from "../documents.js";
import { newObjectId } from "../object-id.js";
import type { Page, ProblemListQuery, ProblemRepository, Unverified } from "../ports.js";
import { findPublicProblem, listPublicProblems } from "./public-problems.repo.js";
import { selectPage } from "./select-page.js";
import type { SqlExecutor } from "./sql-client.js";

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

/** The SQL parameter for one problem field: JSON text for jsonb columns, null for absent optionals. */
function problemParam(field: ProblemField, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  return PROBLEM_COLUMNS[field].json ? JSON.stringify(value) : value;
}

function placeholder(field: ProblemField, index: number): string {
  return PROBLEM_COLUMNS[field].json ? `$${index}::jsonb` : `$${index}`;
}

/** Ids arrive canonical and inputs checked (validated() does both before calling). */
export class PostgresProblems implements Unverified<ProblemRepository> {
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
