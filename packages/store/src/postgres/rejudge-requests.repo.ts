import type { RejudgeRequestRepository, Unverified } from "../ports.js";
import { isoDate } from "../documents.js";
import { newObjectId } from "../object-id.js";
import { rejudgeContended } from "../rejudge.errors.js";
import type { SqlExecutor } from "./sql-client.js";

interface RejudgeRow {
  id: string;
  problem_id: string;
  status: string;
  queued: number;
  marked: number;
  pending: number;
  requested_by: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  marked_at: Date | string | null;
}

/** A rejudge with its progress: `pending` is one probe of the partial index of its unfinished submissions. */
const SELECT_REJUDGE = `
  SELECT r.id, r.problem_id, r.status, r.queued, r.marked, r.requested_by, r.created_at, r.updated_at, r.marked_at,
         (SELECT count(*)::int FROM submissions s
           WHERE s.rejudge_id = r.id AND s.status IN ('Pending', 'Running') AND s.rejudge_generation > 0) AS pending
    FROM rejudges r`;

function toRejudge(row: RejudgeRow): Record<string, unknown> {
  return {
    _id: row.id,
    problemId: row.problem_id,
    status: row.status,
    queued: row.queued,
    marked: row.marked,
    pending: row.pending,
    requestedBy: row.requested_by,
    createdAt: isoDate(row.created_at),
    updatedAt: isoDate(row.updated_at),
    markedAt: row.marked_at === null ? null : isoDate(row.marked_at),
  };
}

/**
 * Rejudge requests on PostgreSQL/PGlite (migration 9). One marking step is one statement: it
 * reads the request's position, moves the next page of submissions back to Pending and advances
 * the position, so a crash leaves either the whole step or none of it. Two steps racing (two
 * replicas) pick the same page; the second waits for the first's row locks and then finds every
 * row already carrying this rejudge's id, so no submission's generation is bumped twice.
 */
export class PostgresRejudgeRequests implements Unverified<RejudgeRequestRepository> {
  constructor(private readonly db: SqlExecutor) {}

  async request(problemId: string, input: { at: string; requestedBy: string | null }): Promise<{ rejudge: Record<string, unknown>; created: boolean }> {
    // Another request may finish marking between the refused insert and the read: then try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      // A repeated request (the usual retry) finds the one marking before paying for the count.
      const existing = await this.db.query<RejudgeRow>(`${SELECT_REJUDGE} WHERE r.problem_id = $1 AND r.status = 'marking'`, [problemId]);
      if (existing.rows[0]) return { rejudge: toRejudge(existing.rows[0]), created: false };
      const { rows } = await this.db.query<{ id: string }>(
        `INSERT INTO rejudges (id, problem_id, status, queued, marked, last_id, after_id, requested_by, created_at, updated_at)
         SELECT $1, $2, 'marking', count(*)::int, 0, max(id), NULL, $3, $4::timestamptz, $4::timestamptz FROM submissions WHERE problem_id = $2
         ON CONFLICT (problem_id) WHERE status = 'marking' DO NOTHING
         RETURNING id`,
        [newObjectId(), problemId, input.requestedBy, input.at],
      );
      const created = rows.length === 1;
      const found = created
        ? await this.db.query<RejudgeRow>(`${SELECT_REJUDGE} WHERE r.id = $1`, [rows[0]!.id])
        : await this.db.query<RejudgeRow>(`${SELECT_REJUDGE} WHERE r.problem_id = $1 AND r.status = 'marking'`, [problemId]);
      if (found.rows[0]) return { rejudge: toRejudge(found.rows[0]), created };
    }
    throw rejudgeContended(problemId);
  }

  async markNext(rejudgeId: string, limit: number, at: string): Promise<{ moved: number; done: boolean } | null> {
    // rejudged_at is the request's time for every page, so the feeder's window (oldest rejudge
    // first) takes one request's submissions in id order. previous_status: the last final status
    // (what problem statistics counted); one still in flight (never final, or rejudged again
    // before finishing) keeps its own. A page is short: few row locks, held briefly.
    const { rows } = await this.db.query<{ status: string; moved: number }>(
      `WITH r AS (
         SELECT id, problem_id, after_id, last_id, created_at FROM rejudges WHERE id = $1 AND status = 'marking'
       ), page AS (
         SELECT s.id FROM submissions s, r
          WHERE s.problem_id = r.problem_id AND (r.after_id IS NULL OR s.id > r.after_id) AND s.id <= r.last_id
          ORDER BY s.id LIMIT $2
       ), moved AS (
         UPDATE submissions
            SET previous_status = CASE WHEN status IN ('Pending', 'Running') THEN previous_status ELSE status END,
                status = 'Pending', passed = 0, time_ms = NULL, memory_kb = NULL, results = '[]'::jsonb,
                compile_output = NULL, failed_test = NULL, message = NULL, score = NULL, group_results = NULL,
                rejudged_at = (SELECT created_at FROM r), rejudge_generation = rejudge_generation + 1,
                rejudge_id = $1, updated_at = $3::timestamptz
          WHERE id IN (SELECT id FROM page) AND rejudge_id IS DISTINCT FROM $1
            -- Never a later rejudge's rows (a step that waited on row locks past this rejudge's end).
            AND (rejudged_at IS NULL OR rejudged_at <= (SELECT created_at FROM r))
          RETURNING id
       ), step AS (
         UPDATE rejudges
            SET after_id = COALESCE((SELECT max(id) FROM page), after_id),
                marked = marked + (SELECT count(*)::int FROM moved),
                status = CASE WHEN (SELECT count(*) FROM page) < $2 THEN 'marked' ELSE 'marking' END,
                marked_at = CASE WHEN (SELECT count(*) FROM page) < $2 THEN $3::timestamptz ELSE NULL END,
                updated_at = $3::timestamptz
          WHERE id = $1 AND status = 'marking'
          RETURNING status
       )
       SELECT step.status, (SELECT count(*)::int FROM moved) AS moved FROM step`,
      [rejudgeId, limit, at],
    );
    const row = rows[0];
    return row ? { moved: row.moved, done: row.status === "marked" } : null;
  }

  async findById(rejudgeId: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.db.query<RejudgeRow>(`${SELECT_REJUDGE} WHERE r.id = $1`, [rejudgeId]);
    return rows[0] ? toRejudge(rows[0]) : null;
  }

  async listMarking(limit: number): Promise<Record<string, unknown>[]> {
    const { rows } = await this.db.query<{ id: string; problem_id: string; queued: number; marked: number }>(
      "SELECT id, problem_id, queued, marked FROM rejudges WHERE status = 'marking' ORDER BY created_at, id LIMIT $1",
      [limit],
    );
    return rows.map((row) => ({ _id: row.id, problemId: row.problem_id, queued: row.queued, marked: row.marked }));
  }
}
