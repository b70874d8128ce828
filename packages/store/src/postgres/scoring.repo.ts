// Scores, problem statistics and percentiles on PostgreSQL/PGlite (migration 6). The
// statistics move inside finalize's one statement (postgres.store.ts builds it from the
// pieces here), so a verdict and its count commit together or not at all.
import type { AcceptedComparison, Language } from "@sonocode/contracts";
import type { SqlExecutor } from "./sql-client.js";

/** A status counts as a judged submission unless it is IE (the platform's failure) or none. */
const judged = (status: string) => `CASE WHEN ${status} IS NULL OR ${status} = 'IE' THEN 0 ELSE 1 END`;
const accepted = (status: string) => `CASE WHEN ${status} = 'Success' THEN 1 ELSE 0 END`;

/**
 * finalize's update as one statement (`set` must include `stats_status = <new status>`;
 * `where` picks the active row to finalize, in unqualified column names) that also moves
 * the problem's counters by the difference between what the submission was counted as
 * (`stats_status`: NULL when never counted; a rejudge leaves it as it was) and its new status.
 * The row is locked first (FOR UPDATE), so the counted status read is the one being replaced
 * even when a rejudge or another finalize committed meanwhile; a finalize that applies nothing
 * (a replay) changes no counter.
 */
export function finalizeWithStats(set: string, where: string): string {
  return `
    WITH counted AS (
      SELECT id, stats_status FROM submissions WHERE ${where} FOR UPDATE
    ), final AS (
      UPDATE submissions SET ${set}
        FROM counted WHERE submissions.id = counted.id
      RETURNING submissions.*, counted.stats_status AS counted_status
    ), delta AS (
      SELECT problem_id,
             ${judged("status")} - ${judged("counted_status")} AS submissions,
             ${accepted("status")} - ${accepted("counted_status")} AS accepted
        FROM final
    ), bumped AS (
      UPDATE problems
         SET submission_count = submission_count + delta.submissions, accepted_count = accepted_count + delta.accepted
        FROM delta
       WHERE problems.id = delta.problem_id AND (delta.submissions <> 0 OR delta.accepted <> 0)
    )
    SELECT * FROM final`;
}

/**
 * The percentile's counts in one index-only range scan of the partial covering index
 * submissions_accepted_idx (problem_id, language, time_ms, memory_kb) WHERE status = 'Success':
 * it reads the accepted submissions of one problem and language, nothing else.
 */
export async function acceptedComparison(
  db: SqlExecutor,
  of: { problemId: string; language: Language; timeMs: number; memoryKb: number },
): Promise<AcceptedComparison> {
  // `of` is itself one of the accepted rows (neither slower nor heavier than itself): it is
  // taken off the count rather than filtered by id, which would need the heap for every row.
  const { rows } = await db.query<{ accepted: number; slower: number; heavier: number }>(
    `SELECT count(*)::int AS accepted,
            count(*) FILTER (WHERE time_ms > $3)::int AS slower,
            count(*) FILTER (WHERE memory_kb > $4)::int AS heavier
       FROM submissions
      WHERE problem_id = $1 AND language = $2 AND status = 'Success'`,
    [of.problemId, of.language, of.timeMs, of.memoryKb],
  );
  const row = rows[0] ?? { accepted: 0, slower: 0, heavier: 0 };
  return { others: Math.max(0, row.accepted - 1), slower: row.slower, moreMemory: row.heavier };
}
