// validated(): the one layer between every adapter and the services. Run over
// the real PostgreSQL adapter on in-memory PGlite; a recording wrapper shows
// what reaches the adapter.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isAppError } from "@sonocode/errors";
import { ZodError } from "zod";
import type { StoreAdapter } from "../src/ports.js";
import { createPostgresStore } from "../src/postgres/postgres.store.js";
import { openPglite, type SqlClient } from "../src/postgres/sql-client.js";
import { validated } from "../src/validated.js";
import { newSubmission, problemInput, verdict } from "./store.contract.js";

/** Every adapter call, as [repository.method, args]. */
type Call = [string, unknown[]];

function recording(adapter: StoreAdapter, calls: Call[]): StoreAdapter {
  const wrap = <T extends object>(name: string, repository: T): T =>
    new Proxy(repository, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push([`${name}.${String(key)}`, args]);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return { ...adapter, kind: adapter.kind, problems: wrap("problems", adapter.problems), submissions: wrap("submissions", adapter.submissions), ping: () => adapter.ping(), close: () => adapter.close() };
}

const isValidationError = (error: unknown) => isAppError(error) && error.code === "VALIDATION_FAILED";

describe("validated(store)", () => {
  let client: SqlClient;
  const calls: Call[] = [];
  let store: ReturnType<typeof validated>;

  before(async () => {
    client = await openPglite(null);
    store = validated(recording(await createPostgresStore(client), calls));
  });
  after(() => store.close());

  it("answers malformed ids as not found without calling the adapter", async () => {
    calls.length = 0;
    for (const id of ["", "nope", "0123456789abcdef0123456", "'; DROP TABLE problems; --"]) {
      assert.equal(await store.problems.findById(id), null);
      assert.equal(await store.problems.update(id, { title: "x" }), null);
      assert.equal(await store.problems.delete(id), false);
      assert.equal(await store.submissions.markRunning(id, { passed: 0, total: 1 }), null);
      assert.equal(await store.submissions.finalize(id, verdict()), null);
      assert.deepEqual(await store.submissions.listByUser("u", { page: 1, limit: 5, problemId: id }), { items: [], total: 0 });
    }
    assert.deepEqual(calls, []);
  });

  it("hands the adapter canonical (lowercase) ids", async () => {
    const created = await store.problems.create(problemInput());
    calls.length = 0;
    const found = await store.problems.findById(created._id.toUpperCase());
    assert.equal(found?._id, created._id);
    assert.deepEqual(calls, [["problems.findById", [created._id]]]);
  });

  it("refuses invalid writes before the adapter sees them", async () => {
    const created = await store.submissions.create(newSubmission());
    calls.length = 0;
    await assert.rejects(store.submissions.create(newSubmission({ total: -1 })), isValidationError);
    await assert.rejects(store.submissions.markRunning(created._id, { passed: 0.5, total: 2 }), isValidationError);
    await assert.rejects(store.problems.create({ ...problemInput(), testCases: [] }), isValidationError);
    assert.deepEqual(calls, []);
  });

  it("re-parses what the database returns: a row edited by hand fails loudly on every read path", async () => {
    const problem = await store.problems.create(problemInput({ title: "tampered" }));
    const submission = await store.submissions.create(newSubmission({ problemId: problem._id }));
    await client.query(`UPDATE problems SET test_cases = '[{"input": 5}]'::jsonb WHERE id = $1`, [problem._id]);
    await client.query("UPDATE submissions SET language = 'COBOL' WHERE id = $1", [submission._id]);
    await assert.rejects(store.problems.findById(problem._id), ZodError);
    await assert.rejects(store.problems.list({ page: 1, limit: 100 }), ZodError);
    await assert.rejects(store.problems.update(problem._id, { title: "again" }), ZodError);
    await assert.rejects(store.submissions.findById(submission._id), ZodError);
    await assert.rejects(store.submissions.listByUser("user-1", { page: 1, limit: 100 }), ZodError);
    await assert.rejects(store.submissions.finalize(submission._id, verdict()), ZodError);
  });

  it("checks the reconciler's refs and counters too", async () => {
    const submission = await store.submissions.create(newSubmission({ userId: "refs" }));
    await client.query("UPDATE submissions SET created_at = now() - interval '1 hour' WHERE id = $1", [submission._id]);
    const cutoff = new Date().toISOString();
    const refs = await store.submissions.listActive({ createdBefore: cutoff, limit: 1000 });
    assert.ok(refs.some((ref) => ref._id === submission._id && ref.status === "Pending"));
    assert.equal(await store.submissions.countActiveByUser("refs"), 1);
    await client.query("UPDATE submissions SET problem_id = 'not-hex' WHERE id = $1", [submission._id]);
    await assert.rejects(store.submissions.listActive({ createdBefore: cutoff, limit: 1000 }), ZodError);
  });
});
