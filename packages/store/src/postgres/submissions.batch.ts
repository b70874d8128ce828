import type { NewSubmission } from "@sonocode/contracts";
import { newObjectId } from "../object-id.js";
import type { SqlExecutor } from "./sql-client.js";
import type { SubmissionRow } from "./postgres.store.js";

/**
 * The POST path's group commit (issue 9): submission-service's admission batcher
 * gathers the POSTs of one event-loop turn and asks for their in-flight counts in
 * one query and their rows in one statement. One statement per batch, whatever
 * its size, costs PGlite about a fifth of what one statement per row does (its
 * per-statement parse, plan and protocol work dominate a row this small), and a
 * server one round trip instead of one per POST.
 *
 * Column arrays through unnest keep the statement text (and its plan) the same
 * for every batch size, and there is no limit on bound parameters to hit.
 */
const INSERT_MANY = `
  INSERT INTO submissions (id, user_id, problem_id, language, code, status, passed, total, results, created_at, updated_at)
  SELECT id, user_id, problem_id, language, code, 'Pending', 0, total, '[]'::jsonb, $7::timestamptz, $7::timestamptz
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[]) AS input(id, user_id, problem_id, language, code, total)
  RETURNING id`;

/**
 * Inserts every input as a Pending submission in ONE statement, so the batch is
 * all or nothing: a row the database refuses (NUL in the code) or an outage
 * rolls the whole statement back and nothing is written. Rows come back in input
 * order, built from what was inserted: the statement returns only the ids (each
 * checked present), not every column, so the code does not travel back out of
 * the database (on PGlite, out of WASM and through its wire protocol) a moment
 * after it went in.
 */
export async function insertSubmissions(
  db: SqlExecutor,
  inputs: readonly NewSubmission[],
  fromRow: (row: SubmissionRow) => Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  if (inputs.length === 0) return [];
  const ids = inputs.map(() => newObjectId());
  const now = new Date().toISOString();
  const { rows } = await db.query<{ id: string }>(INSERT_MANY, [
    ids,
    inputs.map((input) => input.userId),
    inputs.map((input) => input.problemId),
    inputs.map((input) => input.language),
    inputs.map((input) => input.code),
    inputs.map((input) => input.total),
    now,
  ]);
  const returned = new Set(rows.map((row) => row.id));
  return inputs.map((input, index) => {
    const id = ids[index]!;
    // A committed statement that did not return one of its rows would be a driver fault: say so, do not guess.
    if (!returned.has(id)) throw new Error(`batch insert returned no row for ${id}`);
    return fromRow({
      id,
      user_id: input.userId,
      problem_id: input.problemId,
      language: input.language,
      code: input.code,
      status: "Pending",
      passed: 0,
      total: input.total,
      time_ms: null,
      memory_kb: null,
      results: [],
      compile_output: null,
      failed_test: null,
      message: null,
      score: null,
      group_results: null,
      previous_status: null,
      rejudged_at: null,
      rejudge_generation: 0,
      created_at: now,
      updated_at: now,
    });
  });
}

/**
 * In-flight (Pending/Running) submissions of several users in one query, served
 * by the partial index on user_id; users with none are absent from the answer.
 * `filter` is the adapter's own in-flight predicate, so this count and
 * countActiveByUser can never disagree.
 */
export async function countActiveByUsers(db: SqlExecutor, userIds: readonly string[], filter: string): Promise<{ userId: string; total: number }[]> {
  if (userIds.length === 0) return [];
  const { rows } = await db.query<{ user_id: string; total: number }>(
    `SELECT user_id, count(*)::int AS total FROM submissions WHERE user_id = ANY($1::text[]) AND ${filter} GROUP BY user_id`,
    [[...new Set(userIds)]],
  );
  return rows.map((row) => ({ userId: row.user_id, total: row.total }));
}
