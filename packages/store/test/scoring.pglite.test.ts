// Scores, statistics and percentile counts on PGlite (in memory), and migration 6's backfill of
// the statistics of submissions judged before it existed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStore, type Store } from "../src/index.js";
import { createPostgresStore } from "../src/postgres/postgres.store.js";
import { MIGRATIONS, runMigrations } from "../src/postgres/migrations.js";
import { openPglite } from "../src/postgres/sql-client.js";
import { validated } from "../src/validated.js";
import { scoringContract } from "./scoring.contract.js";

let store: Store | undefined;
scoringContract("pglite in memory", {
  open: async () => (store = await createStore({ kind: "pglite", dataDir: null })),
  close: async () => store?.close(),
});

describe("migration 6 (pglite)", () => {
  it("counts the submissions judged before it once, and the store then keeps counting from there", async () => {
    const db = await openPglite(null);
    try {
      await runMigrations(db, MIGRATIONS.filter((migration) => migration.version < 6));
      const now = new Date().toISOString();
      for (const id of ["a".repeat(24), "b".repeat(24)]) {
        await db.query(
          `INSERT INTO problems (id, title, description, difficulty, test_cases, code_stubs, created_at, updated_at)
           VALUES ($1, 't', 'd', 'easy', '[{"input":"1","output":"1","hidden":false}]'::jsonb, '[]'::jsonb, $2, $2)`,
          [id, now],
        );
      }
      const statuses = [["a", "Success"], ["a", "WA"], ["a", "IE"], ["a", "Running"], ["a", "Success"], ["b", "TLE"]];
      for (const [index, [problem, status]] of statuses.entries()) {
        await db.query(
          `INSERT INTO submissions (id, user_id, problem_id, language, code, status, created_at, updated_at)
           VALUES ($1, 'u', $2, 'PYTHON', 'x', $3, $4, $4)`,
          [String(index).padStart(24, "0"), problem!.repeat(24), status, now],
        );
      }
      const store = validated(await createPostgresStore(db));
      assert.deepEqual((await store.problems.findById("a".repeat(24)))?.stats, { submissions: 3, accepted: 2, acceptanceRate: 66.7 });
      assert.deepEqual((await store.problems.findById("b".repeat(24)))?.stats, { submissions: 1, accepted: 0, acceptanceRate: 0 });
      // The one in flight during the migration counts when it finishes; an old one's replay does not.
      await store.submissions.finalize("3".padStart(24, "0"), { status: "Success", passed: 1, total: 1, timeMs: 1, memoryKb: 1, results: [], compileOutput: null, failedTest: null });
      await store.submissions.finalize("0".padStart(24, "0"), { status: "WA", passed: 0, total: 1, timeMs: 1, memoryKb: 1, results: [], compileOutput: null, failedTest: null });
      assert.deepEqual((await store.problems.findById("a".repeat(24)))?.stats, { submissions: 4, accepted: 3, acceptanceRate: 75 });
    } finally {
      await db.close();
    }
  });
});
