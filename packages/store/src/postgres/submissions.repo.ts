import type { AcceptedComparison, Language, NewSubmission, SubmissionListQuery, VerdictFields } from "@sonocode/contracts";
import { isoDate } from "../documents.js";
import { newObjectId } from "../object-id.js";
import type { ActiveSubmissionQuery, ActiveSubmissionRef, AdmissionRequest, Page, SubmissionRepository, Unverified } from "../ports.js";
import { acceptedComparison, finalizeWithStats } from "./scoring.repo.js";
import { selectPage } from "./select-page.js";
import { admitSubmissions, insertSubmissions } from "./submissions.batch.js";
import type { SqlExecutor } from "./sql-client.js";

/** The in-flight statuses (the per-user cap, the reconciler's scan). */
const ACTIVE = "('Pending', 'Running')";

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

export function submissionFromRow(row: SubmissionRow): Record<string, unknown> {
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

export class PostgresSubmissions implements Unverified<SubmissionRepository> {
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
    // Only the progress view comes back (SubmissionProgress): not the code and results.
    const { rows } = await this.db.query<Pick<SubmissionRow, "id" | "user_id" | "passed" | "total" | "rejudge_generation">>(
      `UPDATE submissions SET status = 'Running', passed = $2, total = $3, updated_at = $4::timestamptz
       WHERE id = $1 AND status IN ${ACTIVE} AND (status = 'Pending' OR passed <= $2) AND ($5::int IS NULL OR rejudge_generation = $5)
       RETURNING id, user_id, passed, total, rejudge_generation`,
      [key, progress.passed, progress.total, new Date().toISOString(), generation ?? null],
    );
    const row = rows[0];
    if (!row) return null;
    // As submissionFromRow: the generation only on rows that were rejudged.
    return { _id: row.id, userId: row.user_id, status: "Running", passed: row.passed, total: row.total, ...(row.rejudge_generation > 0 ? { rejudgeGeneration: row.rejudge_generation } : {}) };
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

  admitMany(requests: AdmissionRequest[], maxInFlight: number): ReturnType<Unverified<SubmissionRepository>["admitMany"]> {
    // admit_submissions counts with countActiveByUser's predicate (admission.sql.ts): the cap counts alike on both paths.
    return admitSubmissions(this.db, requests, maxInFlight, submissionFromRow);
  }

  acceptedComparison(of: { problemId: string; language: Language; timeMs: number; memoryKb: number }): Promise<AcceptedComparison> {
    return acceptedComparison(this.db, of);
  }

  private async read(key: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.db.query<SubmissionRow>("SELECT * FROM submissions WHERE id = $1", [key]);
    return rows[0] ? submissionFromRow(rows[0]) : null;
  }
}
