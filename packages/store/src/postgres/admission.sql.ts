/**
 * The POST path's admission in one statement (issue 9), created by migration 10 and
 * redefined by 11 (the locks in one statement, not one PL/pgSQL PERFORM per user: ~20 us
 * each on PGlite). Both texts belong to shipped migrations, so never edit them; a change
 * is a new migration (CREATE OR REPLACE FUNCTION).
 *
 * Why a PL/pgSQL function and not a plain INSERT ... SELECT: on a PostgreSQL server
 * several replicas admit at once, and a plain statement counts a user's in-flight rows in
 * the snapshot it started with, so two replicas' statements could both see "one below the
 * cap" and both insert. Here the function first takes a transaction-scoped advisory lock
 * per capped user (in key order, so two batches never deadlock), and only then runs the
 * count-and-insert: in READ COMMITTED a VOLATILE function's statements each take a fresh
 * snapshot, so the count sees every admission committed by whoever held the lock before.
 * The locks end with the caller's (autocommit) transaction, after the insert is committed.
 * On PGlite (one connection) they are never contended and cost a few microseconds.
 *
 * The decision, per input row in order (ord): k = how many rows of the same user come
 * before it in this batch; a capped row is admitted when active + k < p_max_in_flight.
 * That equals counting only the admitted batch-mates before it (the old batcher's rule):
 * once a capped row of a user is refused, every later capped row of that user has a larger
 * k and is refused too. in_flight (a row's place in line) counts the admitted ones.
 * The in-flight predicate is countActiveByUser's (status Pending/Running, not a rejudge),
 * served by submissions_user_fresh_active_idx.
 */
export const ADMIT_SUBMISSIONS_FUNCTION = `
CREATE FUNCTION admit_submissions(
  p_ids text[], p_user_ids text[], p_problem_ids text[], p_languages text[], p_codes text[], p_totals integer[],
  p_capped boolean[], p_max_in_flight integer, p_now timestamptz)
RETURNS TABLE (ord integer, in_flight integer, admitted boolean, inserted boolean)
LANGUAGE plpgsql VOLATILE AS $admit$
#variable_conflict use_column
DECLARE
  lock_key integer;
BEGIN
  FOR lock_key IN SELECT DISTINCT hashtext(u) FROM unnest(p_user_ids, p_capped) AS x(u, c) WHERE c ORDER BY 1 LOOP
    -- 1400090 names this lock space (the two-key form never meets the one-bigint form the migrations lock uses).
    PERFORM pg_advisory_xact_lock(1400090, lock_key);
  END LOOP;
  RETURN QUERY
  WITH input AS (
    SELECT * FROM unnest(p_ids, p_user_ids, p_problem_ids, p_languages, p_codes, p_totals, p_capped)
      WITH ORDINALITY AS i(id, user_id, problem_id, language, code, total, capped, ord)
  ), active AS (
    SELECT s.user_id, count(*)::integer AS n FROM submissions s
     WHERE s.user_id = ANY (p_user_ids) AND s.status IN ('Pending', 'Running') AND s.rejudge_generation = 0
     GROUP BY s.user_id
  ), ranked AS (
    SELECT i.*, coalesce(a.n, 0) AS active, (row_number() OVER (PARTITION BY i.user_id ORDER BY i.ord) - 1)::integer AS k
      FROM input i LEFT JOIN active a ON a.user_id = i.user_id
  ), decided AS (
    SELECT r.*, (NOT r.capped OR r.active + r.k < p_max_in_flight) AS ok FROM ranked r
  ), placed AS (
    SELECT d.*, (d.active + count(*) FILTER (WHERE d.ok) OVER (PARTITION BY d.user_id ORDER BY d.ord) - CASE WHEN d.ok THEN 1 ELSE 0 END)::integer AS place
      FROM decided d
  ), written AS (
    INSERT INTO submissions (id, user_id, problem_id, language, code, status, passed, total, results, created_at, updated_at)
    SELECT p.id, p.user_id, p.problem_id, p.language, p.code, 'Pending', 0, p.total, '[]'::jsonb, p_now, p_now FROM placed p WHERE p.ok
    RETURNING submissions.id
  )
  SELECT p.ord::integer, p.place, p.ok, w.id IS NOT NULL FROM placed p LEFT JOIN written w ON w.id = p.id ORDER BY p.ord;
END
$admit$`;

/** Migration 11: as migration 10's, the per-user locks taken by one statement. */
export const ADMIT_SUBMISSIONS_FUNCTION_V11 = `
CREATE OR REPLACE FUNCTION admit_submissions(
  p_ids text[], p_user_ids text[], p_problem_ids text[], p_languages text[], p_codes text[], p_totals integer[],
  p_capped boolean[], p_max_in_flight integer, p_now timestamptz)
RETURNS TABLE (ord integer, in_flight integer, admitted boolean, inserted boolean)
LANGUAGE plpgsql VOLATILE AS $admit$
#variable_conflict use_column
BEGIN
  -- 1400090 names this lock space (the two-key form never meets the one-bigint form the migrations lock uses).
  -- The DISTINCT ... ORDER BY subquery is never flattened, so the locks are taken in key order.
  PERFORM pg_advisory_xact_lock(1400090, keys.k)
     FROM (SELECT DISTINCT hashtext(u) AS k FROM unnest(p_user_ids, p_capped) AS x(u, c) WHERE c ORDER BY 1) AS keys;
  RETURN QUERY
  WITH input AS (
    SELECT * FROM unnest(p_ids, p_user_ids, p_problem_ids, p_languages, p_codes, p_totals, p_capped)
      WITH ORDINALITY AS i(id, user_id, problem_id, language, code, total, capped, ord)
  ), active AS (
    SELECT s.user_id, count(*)::integer AS n FROM submissions s
     WHERE s.user_id = ANY (p_user_ids) AND s.status IN ('Pending', 'Running') AND s.rejudge_generation = 0
     GROUP BY s.user_id
  ), ranked AS (
    SELECT i.*, coalesce(a.n, 0) AS active, (row_number() OVER (PARTITION BY i.user_id ORDER BY i.ord) - 1)::integer AS k
      FROM input i LEFT JOIN active a ON a.user_id = i.user_id
  ), decided AS (
    SELECT r.*, (NOT r.capped OR r.active + r.k < p_max_in_flight) AS ok FROM ranked r
  ), placed AS (
    SELECT d.*, (d.active + count(*) FILTER (WHERE d.ok) OVER (PARTITION BY d.user_id ORDER BY d.ord) - CASE WHEN d.ok THEN 1 ELSE 0 END)::integer AS place
      FROM decided d
  ), written AS (
    INSERT INTO submissions (id, user_id, problem_id, language, code, status, passed, total, results, created_at, updated_at)
    SELECT p.id, p.user_id, p.problem_id, p.language, p.code, 'Pending', 0, p.total, '[]'::jsonb, p_now, p_now FROM placed p WHERE p.ok
    RETURNING submissions.id
  )
  SELECT p.ord::integer, p.place, p.ok, w.id IS NOT NULL FROM placed p LEFT JOIN written w ON w.id = p.id ORDER BY p.ord;
END
$admit$`;
