// Cost of the percentile counts (acceptedComparison) as the accepted submissions of one problem
// and language grow, on PGlite (in memory), with EXPLAIN to show the index it uses.
// Run: npx tsx packages/store/bench/percentile.bench.ts [accepted=100000] (about that many accepted rows of the measured problem)
import { createPostgresStore } from "../src/postgres/postgres.store.js";
import { openPglite } from "../src/postgres/sql-client.js";

const accepted = Number(process.argv[2] ?? 100_000);
const client = await openPglite(null);
await createPostgresStore(client);
const problem = "a".repeat(24);
// The measured problem's rows (3 in 4 accepted), and 20 times as many spread over 1,000 other problems.
await client.query(
  `INSERT INTO submissions (id, user_id, problem_id, language, code, status, time_ms, memory_kb, created_at, updated_at)
   SELECT lpad(to_hex(g), 24, '0'), 'u', CASE WHEN g % 21 = 0 THEN $1 ELSE lpad(to_hex(g % 1000), 24, 'b') END, 'PYTHON', 'x',
          CASE WHEN g % 4 = 3 THEN 'WA' ELSE 'Success' END, ((g::bigint * 7919) % 2000)::int, ((g::bigint * 104729) % 65536)::int, now(), now()
     FROM generate_series(1, $2::int * 28) AS g`,
  [problem, accepted],
);
// VACUUM sets the visibility map (autovacuum does in production): the counts become an index-only scan.
await client.query("VACUUM ANALYZE submissions");
const sql = `SELECT count(*)::int AS accepted, count(*) FILTER (WHERE time_ms > $3)::int AS slower, count(*) FILTER (WHERE memory_kb > $4)::int AS heavier
               FROM submissions WHERE problem_id = $1 AND language = $2 AND status = 'Success'`;
const params = [problem, "PYTHON", 1000, 30000];
const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
console.log(plan.rows.map((row) => row["QUERY PLAN"]).join("\n"));
const runs = 20;
const started = performance.now();
for (let i = 0; i < runs; i++) await client.query(sql, params);
const ms = (performance.now() - started) / runs;
const { rows } = await client.query<{ accepted: number }>(sql, params);
console.log(`accepted rows of the problem: ${rows[0]?.accepted}; mean ${ms.toFixed(2)} ms per percentile (${runs} runs)`);
await client.close();
