import type { RejudgeRepository, Unverified } from "../ports.js";
import { isoDate } from "../documents.js";
import type { SqlExecutor } from "./sql-client.js";

/**
 * The rejudge feeder's window on PostgreSQL/PGlite (the partial index of migration 7). Marking
 * submissions for a rejudge is rejudge-requests.repo.ts's (migration 9).
 */
export class PostgresRejudges implements Unverified<RejudgeRepository> {
  constructor(private readonly db: SqlExecutor) {}

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
