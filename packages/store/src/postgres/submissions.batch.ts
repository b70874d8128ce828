import type { NewSubmission } from "@sonocode/contracts";
import { newObjectId } from "../object-id.js";
import type { AdmissionRequest } from "../ports.js";
import type { SqlExecutor } from "./sql-client.js";
import type { SubmissionRow } from "./submissions.repo.js";

/**
 * Batched writes of Pending submissions (issue 9). submission-service's admission
 * batcher gathers the POSTs of one event-loop turn and admits them with one
 * statement (admitSubmissions: the in-flight caps and the insert together);
 * createMany (insertSubmissions) is the same insert without caps. One statement per
 * batch, whatever its size, costs PGlite about a fifth of what one statement per row
 * does (its per-statement parse, plan and protocol work dominate a row this small),
 * and a server one round trip instead of one per POST.
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
    return fromRow(pendingRow(id, input, now));
  });
}

/** The row a Pending insert of `input` wrote (what the statements would return, had they returned whole rows). */
function pendingRow(id: string, input: NewSubmission, now: string): SubmissionRow {
  return {
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
  };
}

const ADMIT = `SELECT ord, in_flight, admitted, inserted
  FROM admit_submissions($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::boolean[], $8::integer, $9::timestamptz)`;

/**
 * One batch of POSTs: caps and insert in ONE statement (admit_submissions, admission.sql.ts),
 * one per batch instead of a count and an insert. All or nothing like insertSubmissions:
 * one statement, so a refused row (NUL in the code) or an outage writes none of the batch.
 * Admitted rows are built from what went in (only ids, places and flags come back).
 */
export async function admitSubmissions(
  db: SqlExecutor,
  requests: readonly AdmissionRequest[],
  maxInFlight: number,
  fromRow: (row: SubmissionRow) => Record<string, unknown>,
): Promise<({ admitted: true; submission: Record<string, unknown>; inFlight: number } | { admitted: false; inFlight: number })[]> {
  if (requests.length === 0) return [];
  const ids = requests.map(() => newObjectId());
  const now = new Date().toISOString();
  const { rows } = await db.query<{ ord: number; in_flight: number; admitted: boolean; inserted: boolean }>(ADMIT, [
    ids,
    requests.map(({ input }) => input.userId),
    requests.map(({ input }) => input.problemId),
    requests.map(({ input }) => input.language),
    requests.map(({ input }) => input.code),
    requests.map(({ input }) => input.total),
    requests.map(({ capped }) => capped),
    maxInFlight,
    now,
  ]);
  // A committed statement that answered for other rows than it was given, or admitted a row it did not insert, is a fault: say so, do not guess.
  if (rows.length !== requests.length || rows.some((row, index) => row.ord !== index + 1 || row.admitted !== row.inserted)) {
    throw new Error(`admission answered ${rows.length} rows for ${requests.length} requests, or out of order, or admitted a row it did not insert`);
  }
  return rows.map((row, index) =>
    row.admitted
      ? { admitted: true, submission: fromRow(pendingRow(ids[index]!, requests[index]!.input, now)), inFlight: row.in_flight }
      : { admitted: false, inFlight: row.in_flight },
  );
}
