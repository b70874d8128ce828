import type { RejudgeRepository, Unverified } from "../ports.js";
import { isoDate } from "../documents.js";
import type { SqlExecutor } from "./sql-client.js";

/**
 * Rejudges on PostgreSQL/PGlite. One page is one UPDATE over a keyset page of the problem's
 * submissions (the (problem_id, id) index): row locks make it atomic per row against a
 * finalize racing it, and a page is small enough never to hold many locks for long.
 */
export class PostgresRejudges implements Unverified<RejudgeRepository> {
  constructor(private readonly db: SqlExecutor) {}

  async markPage(problemId: string, page: { after?: string | undefined; limit: number; at: string }): Promise<string[]> {
    // previous_status: the last final status, i.e. what problem statistics counted the submission
    // as. A submission still in flight (never final, or rejudged again before finishing) keeps its own.
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE submissions
          SET previous_status = CASE WHEN status IN ('Pending', 'Running') THEN previous_status ELSE status END,
              status = 'Pending', passed = 0, time_ms = NULL, memory_kb = NULL, results = '[]'::jsonb,
              compile_output = NULL, failed_test = NULL, message = NULL, score = NULL, group_results = NULL,
              rejudged_at = $3::timestamptz, rejudge_generation = rejudge_generation + 1, updated_at = $3::timestamptz
        WHERE id IN (SELECT id FROM submissions WHERE problem_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $4)
        RETURNING id`,
      [problemId, page.after ?? null, page.at, page.limit],
    );
    return rows.map((row) => row.id).sort();
  }

  async listRejudging(limit: number): Promise<Record<string, unknown>[]> {
    const { rows } = await this.db.query<{ id: string; problem_id: string; status: string; rejudge_generation: number; rejudged_at: Date | string }>(
      `SELECT id, problem_id, status, rejudge_generation, rejudged_at FROM submissions
        WHERE status IN ('Pending', 'Running') AND rejudge_generation > 0
        ORDER BY rejudged_at, id LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      _id: row.id,
      problemId: row.problem_id,
      status: row.status,
      rejudgeGeneration: row.rejudge_generation,
      rejudgedAt: isoDate(row.rejudged_at),
    }));
  }
}
