// Runs ("run code") on PostgreSQL / PGlite: scratch rows with a deadline (not final by
// then: IE) and an expiry (deleted after), kept apart from submissions so they never
// reach problem statistics or the reconciler.
import type { NewRun, RunVerdict } from "@sonocode/contracts";
import { isoDate } from "../documents.js";
import { newObjectId } from "../object-id.js";
import type { RunCursor, RunRepository, Unverified } from "../ports.js";
import type { SqlExecutor } from "./sql-client.js";

const ACTIVE = "('Pending', 'Running')";

interface RunRow {
  id: string;
  user_id: string;
  problem_id: string;
  language: string;
  status: string;
  compile_output: string | null;
  results: unknown;
  message: string | null;
  deadline_at: Date | string;
  expires_at: Date | string;
  created_at: Date | string;
  updated_at: Date | string;
}

function runFromRow(row: RunRow): Record<string, unknown> {
  return {
    _id: row.id,
    userId: row.user_id,
    problemId: row.problem_id,
    language: row.language,
    status: row.status,
    compileOutput: row.compile_output,
    results: row.results,
    message: row.message,
    deadlineAt: isoDate(row.deadline_at),
    expiresAt: isoDate(row.expires_at),
    createdAt: isoDate(row.created_at),
    updatedAt: isoDate(row.updated_at),
  };
}

export class PostgresRuns implements Unverified<RunRepository> {
  constructor(private readonly db: SqlExecutor) {}

  async create(input: NewRun): Promise<Record<string, unknown>> {
    const now = new Date().toISOString();
    const { rows } = await this.db.query<RunRow>(
      `INSERT INTO runs (id, user_id, problem_id, language, status, results, deadline_at, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'Pending', '[]'::jsonb, $5::timestamptz, $6::timestamptz, $7::timestamptz, $7::timestamptz)
       RETURNING *`,
      [newObjectId(), input.userId, input.problemId, input.language, input.deadlineAt, input.expiresAt, now],
    );
    return runFromRow(rows[0]!);
  }

  async findById(key: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.db.query<RunRow>("SELECT * FROM runs WHERE id = $1", [key]);
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async finalize(key: string, verdict: RunVerdict): Promise<{ run: Record<string, unknown>; applied: boolean } | null> {
    // Conditional on a non-final status, so a replayed result or the deadline sweep racing a late result changes nothing.
    const { rows } = await this.db.query<RunRow>(
      `UPDATE runs SET status = $2, compile_output = $3, results = $4::jsonb, message = $5, updated_at = $6::timestamptz
        WHERE id = $1 AND status IN ${ACTIVE} RETURNING *`,
      [key, verdict.status, verdict.compileOutput, JSON.stringify(verdict.results), verdict.message, new Date().toISOString()],
    );
    if (rows[0]) return { run: runFromRow(rows[0]), applied: true };
    const current = await this.findById(key);
    return current ? { run: current, applied: false } : null;
  }

  async delete(key: string): Promise<boolean> {
    const { rows } = await this.db.query("DELETE FROM runs WHERE id = $1 RETURNING id", [key]);
    return rows.length > 0;
  }

  async countActiveByUser(userId: string): Promise<number> {
    const { rows } = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM runs WHERE user_id = $1 AND status IN ${ACTIVE}`, [userId]);
    return rows[0]?.total ?? 0;
  }

  async listOverdue(now: string, limit: number, after?: RunCursor): Promise<Record<string, unknown>[]> {
    // runs_overdue_idx (deadline_at, partial on the active statuses): empty when nothing is late.
    const { rows } = await this.db.query<RunRow>(
      `SELECT * FROM runs
        WHERE status IN ${ACTIVE} AND deadline_at < $1::timestamptz
          AND ($3::timestamptz IS NULL OR (deadline_at, id) > ($3::timestamptz, $4::text))
        ORDER BY deadline_at, id LIMIT $2`,
      [now, limit, after?.deadlineAt ?? null, after?.id ?? null],
    );
    return rows.map(runFromRow);
  }

  async deleteExpired(now: string): Promise<number> {
    const { rowCount } = await this.db.query("DELETE FROM runs WHERE expires_at < $1::timestamptz", [now]);
    return rowCount;
  }
}
