// Rejudge requests on PostgreSQL (PGlite in-process): a repeated request returns the rejudge
// marking without the INSERT ... SELECT count(*) over the problem's submissions, and one that can
// neither insert nor find a rejudge marking is a typed 409, not a plain Error (a 500).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isAppError } from "@sonocode/errors";
import type { StoreAdapter } from "../src/ports.js";
import { createPostgresStore } from "../src/postgres/postgres.store.js";
import { openPglite, type SqlClient, type SqlExecutor } from "../src/postgres/sql-client.js";
import { PostgresRejudgeRequests } from "../src/postgres/rejudge-requests.repo.js";
import { newSubmission, problemInput } from "./store.contract.js";

describe("store rejudge requests: pglite", () => {
  let client: SqlClient;
  let adapter: StoreAdapter;
  before(async () => {
    // The adapter (migrations run) and the repository under test share one in-memory PGlite.
    client = await openPglite(null);
    adapter = await createPostgresStore(client);
  });
  after(() => adapter.close());

  /** client, with every statement recorded (and INSERTs into rejudges optionally refused). */
  function recording(refuseInsert = false): { db: SqlExecutor; statements: string[] } {
    const statements: string[] = [];
    return {
      statements,
      db: {
        query: (text, params) => {
          statements.push(text);
          if (refuseInsert && /INSERT INTO rejudges/.test(text)) return Promise.resolve({ rows: [], rowCount: 0 });
          return client.query(text, params);
        },
      },
    };
  }

  it("a repeated request returns the rejudge marking and runs no INSERT with its count", async () => {
    const problem = (await adapter.problems.create(problemInput())) as { _id: string };
    await adapter.submissions.createMany([1, 2, 3].map(() => newSubmission({ problemId: problem._id, userId: "ivo" })));
    const { db, statements } = recording();
    const repo = new PostgresRejudgeRequests(db);
    const first = await repo.request(problem._id, { at: new Date().toISOString(), requestedBy: null });
    assert.deepEqual([first.created, first.rejudge.queued], [true, 3]);
    statements.length = 0;
    const again = await repo.request(problem._id, { at: new Date().toISOString(), requestedBy: null });
    assert.deepEqual([again.created, again.rejudge._id], [false, first.rejudge._id]);
    assert.equal(statements.length, 1, "one read of the rejudge marking");
    assert.ok(!statements.some((text) => /INSERT INTO rejudges/.test(text)), "no INSERT ... SELECT count(*)");
  });

  it("a request that can neither record a rejudge nor find one marking is a typed 409", async () => {
    const problem = (await adapter.problems.create(problemInput())) as { _id: string };
    const repo = new PostgresRejudgeRequests(recording(true).db);
    await assert.rejects(repo.request(problem._id, { at: new Date().toISOString(), requestedBy: null }), (error: unknown) => {
      assert.ok(isAppError(error), "an AppError");
      assert.deepEqual([error.code, error.status, error.retryAfterSeconds], ["CONFLICT", 409, 1]);
      return true;
    });
  });
});
