import { ADMIT_SUBMISSIONS_FUNCTION, ADMIT_SUBMISSIONS_FUNCTION_V11 } from "./admission.sql.js";
import type { SqlClient, SqlExecutor } from "./sql-client.js";

/**
 * Versioned schema migrations, applied at start-up. Never edit a migration that
 * has shipped: add a new version. Each start runs every pending migration in one
 * transaction, so a failure leaves the schema as it was.
 *
 * Schema decision: columns for every scalar the judge filters, sorts or updates
 * (status, user_id, problem_id, difficulty, created_at, counters), JSONB only for
 * the nested arrays/objects that are always read and written whole (test cases,
 * code stubs, per-test results, failed test, checker). That keeps the hot queries
 * plain B-tree index scans (a user's submissions newest first, optionally for one
 * problem; active submissions by age for recovery; problems by difficulty) and lets
 * finalize be a single conditional UPDATE on typed columns, while the document
 * shape of the contracts is rebuilt at the boundary. A whole-document JSONB column
 * would need expression indexes and jsonb_set for every status transition.
 *
 * Ids are the contracts' 24-hex ObjectId strings stored as text (lowercase): no
 * conversion at the boundary, and they sort by creation second, which makes them
 * a deterministic tie-breaker after created_at.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Statements separated by semicolons that end a line, or (for bodies with semicolons) the statements themselves. */
  readonly sql: string | readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "problems and submissions",
    sql: `
      CREATE TABLE problems (
        id              text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
        title           text NOT NULL,
        description     text NOT NULL,
        difficulty      text NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
        test_cases      jsonb NOT NULL,
        code_stubs      jsonb NOT NULL,
        editorial       text,
        time_limit_ms   integer,
        memory_limit_mb integer,
        checker         jsonb,
        run_all_tests   boolean,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL
      );
      -- The problem list, all or by difficulty, newest first.
      CREATE INDEX problems_created_idx ON problems (created_at DESC, id DESC);
      CREATE INDEX problems_difficulty_created_idx ON problems (difficulty, created_at DESC, id DESC);

      CREATE TABLE submissions (
        id             text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
        user_id        text NOT NULL,
        -- No foreign key: a submission outlives an edited or deleted problem, as
        -- in the original document model.
        problem_id     text NOT NULL,
        language       text NOT NULL,
        code           text NOT NULL,
        status         text NOT NULL CHECK (status IN ('Pending','Running','Success','WA','TLE','MLE','RE','CE','OLE','IE')),
        passed         integer NOT NULL DEFAULT 0,
        total          integer NOT NULL DEFAULT 0,
        time_ms        integer,
        memory_kb      integer,
        results        jsonb NOT NULL DEFAULT '[]'::jsonb,
        compile_output text,
        failed_test    jsonb,
        message        text,
        created_at     timestamptz NOT NULL,
        updated_at     timestamptz NOT NULL
      );
      -- "My submissions" (all problems) and "my submissions for this problem",
      -- newest first: both are index range scans with no sort step.
      CREATE INDEX submissions_user_created_idx ON submissions (user_id, created_at DESC, id DESC);
      CREATE INDEX submissions_user_problem_created_idx ON submissions (user_id, problem_id, created_at DESC, id DESC);
      -- Recovery of stuck work: Pending/Running submissions oldest first.
      CREATE INDEX submissions_status_created_idx ON submissions (status, created_at);
    `,
  },
  {
    version: 2,
    name: "per-user in-flight index",
    sql: `
      -- The per-user in-flight cap counts a user's non-final submissions on every POST:
      -- a partial index holds only those, so the count never walks a user's history.
      CREATE INDEX submissions_user_active_idx ON submissions (user_id) WHERE status IN ('Pending', 'Running');
    `,
  },
  {
    version: 3,
    name: "test-set content hash",
    sql: `
      -- sha256 of the test cases' canonical encoding, written with them; jobs carry it
      -- instead of the tests. NULL on older rows: the read path computes it.
      ALTER TABLE problems ADD COLUMN test_set_hash text
    `,
  },
  {
    version: 4,
    name: "reference solution, per-language limits, subtask groups",
    sql: `
      -- Read and written whole with the problem, like the checker. "groups" is a reserved
      -- word in PostgreSQL, hence test_groups.
      ALTER TABLE problems
        ADD COLUMN reference_solution jsonb,
        ADD COLUMN language_limits jsonb,
        ADD COLUMN test_groups jsonb
    `,
  },
  {
    version: 5,
    name: "runs (run code): scratch results with a deadline and an expiry",
    sql: `
      -- Apart from submissions: runs never reach problem statistics, the reconciler or the
      -- per-user submission history. No code is kept (the job carries it).
      CREATE TABLE runs (
        id             text PRIMARY KEY,
        user_id        text NOT NULL,
        problem_id     text NOT NULL,
        language       text NOT NULL,
        status         text NOT NULL CHECK (status IN ('Pending','Running','Success','WA','TLE','MLE','RE','CE','OLE','IE')),
        compile_output text,
        results        jsonb NOT NULL DEFAULT '[]'::jsonb,
        message        text,
        deadline_at    timestamptz NOT NULL,
        expires_at     timestamptz NOT NULL,
        created_at     timestamptz NOT NULL,
        updated_at     timestamptz NOT NULL
      );
      -- The sweep's two scans and the per-user in-flight count; the partial ones stay empty when idle.
      CREATE INDEX runs_overdue_idx ON runs (deadline_at) WHERE status IN ('Pending', 'Running');
      CREATE INDEX runs_user_active_idx ON runs (user_id) WHERE status IN ('Pending', 'Running');
      CREATE INDEX runs_expires_at_idx ON runs (expires_at)
    `,
  },
  {
    version: 6,
    name: "scores, subtask results, problem statistics, percentile index",
    sql: `
      -- score and the per-group outcome are read and written whole with the verdict.
      -- stats_status: the final status this submission is counted as in its problem's stats
      -- (NULL: not counted); finalize moves the counters by the difference, so a replay never
      -- counts twice and a rejudge (which leaves it alone) moves them by what changed.
      ALTER TABLE submissions
        ADD COLUMN score double precision,
        ADD COLUMN group_results jsonb,
        ADD COLUMN stats_status text;
      ALTER TABLE problems
        ADD COLUMN submission_count integer NOT NULL DEFAULT 0 CHECK (submission_count >= 0),
        ADD COLUMN accepted_count integer NOT NULL DEFAULT 0 CHECK (accepted_count >= 0);
      -- Submissions judged before statistics existed are counted once, here.
      UPDATE submissions SET stats_status = status WHERE status NOT IN ('Pending', 'Running');
      UPDATE problems
         SET submission_count = counts.judged, accepted_count = counts.accepted
        FROM (SELECT problem_id,
                     count(*) FILTER (WHERE stats_status <> 'IE')::int AS judged,
                     count(*) FILTER (WHERE stats_status = 'Success')::int AS accepted
                FROM submissions WHERE stats_status IS NOT NULL GROUP BY problem_id) AS counts
       WHERE problems.id = counts.problem_id;
      -- Percentiles: the accepted submissions of one problem and language, covering both
      -- figures, so their counts are one index-only range scan (partial: only Success rows).
      CREATE INDEX submissions_accepted_idx ON submissions (problem_id, language, time_ms, memory_kb) WHERE status = 'Success';
    `,
  },
  {
    version: 7,
    name: "rejudge: previous status, rejudged at, generation",
    sql: `
      -- A rejudge moves a submission back to Pending: previous_status keeps its last final
      -- status (what problem stats counted it as), rejudge_generation names the judging
      -- whose results may finish it (a superseded generation's late result is dropped).
      ALTER TABLE submissions
        ADD COLUMN previous_status text CHECK (previous_status IN ('Success','WA','TLE','MLE','RE','CE','OLE','IE')),
        ADD COLUMN rejudged_at timestamptz,
        ADD COLUMN rejudge_generation integer NOT NULL DEFAULT 0 CHECK (rejudge_generation >= 0);
      -- The rejudge walks one problem's submissions in id order, a page at a time.
      CREATE INDEX submissions_problem_id_idx ON submissions (problem_id, id);
      -- The rejudge feeder's window: rejudges still to finish, oldest first. Partial, so it
      -- holds only those and costs nothing when no rejudge runs.
      CREATE INDEX submissions_rejudging_idx ON submissions (rejudged_at, id) WHERE status IN ('Pending', 'Running') AND rejudge_generation > 0;
      -- The reconciler's scan and the per-user in-flight count skip rejudges; without these a
      -- large rejudge's Pending rows would be walked (and filtered out) on every tick and POST.
      CREATE INDEX submissions_fresh_active_idx ON submissions (created_at, id) WHERE status IN ('Pending', 'Running') AND rejudge_generation = 0;
      CREATE INDEX submissions_user_fresh_active_idx ON submissions (user_id) WHERE status IN ('Pending', 'Running') AND rejudge_generation = 0;
    `,
  },
  {
    version: 8,
    name: "interactive problems: the interactor",
    sql: `
      -- Read and written whole with the problem, like the checker (its code included).
      ALTER TABLE problems ADD COLUMN interactor jsonb
    `,
  },
  {
    version: 9,
    name: "durable rejudge requests",
    sql: `
      -- A rejudge request, recorded by the admin's POST before anything is marked. The marking
      -- walks the problem's submissions in id order after after_id up to last_id (the newest when
      -- it was requested; null: there were none), one page per step, so any replica resumes it.
      CREATE TABLE rejudges (
        id           text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
        problem_id   text NOT NULL,
        status       text NOT NULL CHECK (status IN ('marking', 'marked')),
        queued       integer NOT NULL CHECK (queued >= 0),
        marked       integer NOT NULL DEFAULT 0 CHECK (marked >= 0),
        last_id      text,
        after_id     text,
        requested_by text,
        created_at   timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL,
        marked_at    timestamptz
      );
      -- At most one rejudge marks a problem at a time: a repeated request finds that one.
      CREATE UNIQUE INDEX rejudges_marking_problem_idx ON rejudges (problem_id) WHERE status = 'marking';
      -- Which rejudge last moved a submission back to Pending: a page marked twice (two replicas,
      -- or a step redone after a crash) bumps each submission's generation once.
      ALTER TABLE submissions ADD COLUMN rejudge_id text;
      -- A rejudge's progress: its submissions still to finish.
      CREATE INDEX submissions_rejudge_pending_idx ON submissions (rejudge_id) WHERE status IN ('Pending', 'Running') AND rejudge_generation > 0;
    `,
  },
  {
    version: 10,
    name: "admission in one statement",
    sql: [ADMIT_SUBMISSIONS_FUNCTION],
  },
  {
    version: 11,
    name: "admission: the per-user locks in one statement",
    sql: [ADMIT_SUBMISSIONS_FUNCTION_V11],
  },
];

/** Arbitrary constant key for pg_advisory_xact_lock, shared by every process migrating this database. */
const MIGRATION_LOCK_KEY = 7_305_190_441;

/**
 * Applies pending migrations; returns the versions applied by this call (empty
 * when the schema was already current). Safe when several processes start at
 * once: the transaction first takes a transaction-scoped advisory lock, so the
 * others wait, then see the versions already recorded and apply nothing. PGlite
 * is a single connection, so there the lock is uncontended but harmless.
 */
export async function runMigrations(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = new Set((await tx.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await execScript(tx, migration.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/**
 * Extended-protocol queries (the only kind both drivers share with parameters)
 * accept one statement each, so a script is split on the semicolons that end a
 * line. Migrations are written to respect that: no semicolons inside bodies.
 */
async function execScript(tx: SqlExecutor, script: string | readonly string[]): Promise<void> {
  if (typeof script !== "string") {
    for (const statement of script) await tx.query(statement);
    return;
  }
  const statements = script
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, "").trim())
    .filter((statement) => statement.length > 0);
  for (const statement of statements) await tx.query(statement);
}
