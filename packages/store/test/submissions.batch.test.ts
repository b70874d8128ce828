// The POST path's group commit in the store (issue 9): createMany and admitMany write a batch
// whole or not at all, in input order, admitMany's caps count as countActiveByUser does and
// hold across two stores on one PostgreSQL server; on
// PGlite, on the throwaway PostgreSQL server and on MongoDB (MONGO_URL, else the stand-in).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { NewSubmission } from "@sonocode/contracts";
import { createTestDatabase } from "@sonocode/testkit";
import { createStore, newObjectId, type Store } from "../src/index.js";
import { mongoDatabase, mongoTarget } from "./mongo-target.js";

const backends: { name: string; open: () => Promise<{ store: Store; drop: () => Promise<void> }> }[] = [
  { name: "pglite", open: async () => ({ store: await createStore({ kind: "pglite", dataDir: null }), drop: async () => undefined }) },
  {
    name: "postgres",
    open: async () => {
      const db = await createTestDatabase("batch");
      return { store: await createStore({ kind: "postgres", url: db.url }), drop: db.drop };
    },
  },
];
// MongoDB: the server MONGO_URL names, else the wire-compatible stand-in (not MongoDB; mongo-target.ts).
backends.push({
  name: mongoTarget.name,
  open: async () => {
    const database = mongoDatabase("batch");
    return { store: await database.open(), drop: database.drop };
  },
});

function draft(userId: string, code = "print(1)"): NewSubmission {
  return { userId, problemId: newObjectId(), language: "PYTHON", code, total: 3 };
}

for (const backend of backends) {
  describe(`submissions batch (${backend.name})`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    before(async () => ({ store, drop } = await backend.open()));
    after(async () => {
      await store.close();
      await drop();
    });

    test("createMany inserts every row Pending, returned in input order, each readable alone", async () => {
      const user = `many-${randomUUID()}`;
      const inputs = Array.from({ length: 40 }, (_, i) => draft(`${user}-${i % 3}`, `print(${i})`));
      const created = await store.submissions.createMany(inputs);
      assert.equal(created.length, inputs.length);
      assert.equal(new Set(created.map((s) => s._id)).size, inputs.length, "fresh ids");
      created.forEach((submission, i) => {
        assert.equal(submission.code, inputs[i]!.code, `row ${i} in input order`);
        assert.equal(submission.userId, inputs[i]!.userId);
        assert.equal(submission.problemId, inputs[i]!.problemId);
        assert.equal(submission.status, "Pending");
        assert.equal(submission.total, 3);
      });
      assert.deepEqual(await store.submissions.findById(created[7]!._id), created[7]);
      assert.deepEqual(await store.submissions.createMany([]), []);
    });

    test("createMany is all or nothing: one row the database refuses, or one invalid input, writes none of the batch", async () => {
      const user = `none-${randomUUID()}`;
      // NUL: PostgreSQL text cannot hold it (a 400 VALIDATION_FAILED); MongoDB stores it, so there only the invalid input refuses.
      const refusedByDatabase = [draft(user), draft(user, "print('\u0000')"), draft(user)];
      const invalid = [draft(user), { ...draft(user), total: -1 }, draft(user)];
      for (const batch of store.kind === "mongodb" ? [invalid] : [refusedByDatabase, invalid]) {
        await assert.rejects(store.submissions.createMany(batch), (error: Error & { code?: string }) => error.code === "VALIDATION_FAILED");
        assert.equal((await store.submissions.listByUser(user, { page: 1, limit: 10 })).total, 0, "nothing of the batch was written");
      }
    });

    test("admitMany: each user's capped requests fill the cap in order against the stored count, final ones not counted, the refused are not written", async () => {
      const [a, b, none] = [`cap-a-${randomUUID()}`, `cap-b-${randomUUID()}`, `cap-none-${randomUUID()}`];
      const created = await store.submissions.createMany([draft(a), draft(a), draft(a), draft(b)]);
      await store.submissions.finalize(created[0]!._id, { status: "WA", passed: 0, total: 3, timeMs: 1, memoryKb: 1, results: [], compileOutput: null, failedTest: null, message: null });
      await store.submissions.markRunning(created[1]!._id, { passed: 1, total: 3 });
      // a has 2 in flight, b 1, none 0; the cap is 3.
      const requests = [a, b, a, none, b, a, b, none, b].map((user, i) => ({ input: draft(user, `print(${i})`), capped: true }));
      const outcomes = await store.submissions.admitMany(requests, 3);
      assert.deepEqual(
        outcomes.map((o) => [o.admitted, o.inFlight]),
        [[true, 2], [true, 1], [false, 3], [true, 0], [true, 2], [false, 3], [false, 3], [true, 1], [false, 3]],
      );
      outcomes.forEach((outcome, i) => {
        if (!outcome.admitted) return;
        assert.equal(outcome.submission.code, `print(${i})`, `row ${i} in request order`);
        assert.equal(outcome.submission.userId, requests[i]!.input.userId);
        assert.equal(outcome.submission.status, "Pending");
      });
      const first = outcomes[0]!;
      assert.ok(first.admitted);
      assert.deepEqual(await store.submissions.findById(first.submission._id), first.submission, "the admitted row reads back as returned");
      for (const [user, active] of [[a, 3], [b, 3], [none, 2]] as const) assert.equal(await store.submissions.countActiveByUser(user), active, user);
      assert.equal((await store.submissions.listByUser(a, { page: 1, limit: 20 })).total, 4, "a: the 3 seeded and the one admitted, no refused row");
      assert.deepEqual(await store.submissions.admitMany([], 3), []);
    });

    test("admitMany: uncapped requests always pass and count for the capped ones after them; a cap of 0 refuses every capped one", async () => {
      const user = `mixed-${randomUUID()}`;
      const sequence = [true, false, true, true, false, true];
      const outcomes = await store.submissions.admitMany(sequence.map((capped, i) => ({ input: draft(user, `print(${i})`), capped })), 3);
      // The old batcher's rule: a running count of the admitted, whoever they were.
      assert.deepEqual(outcomes.map((o) => [o.admitted, o.inFlight]), [[true, 0], [true, 1], [true, 2], [false, 3], [true, 3], [false, 4]]);
      const none = await store.submissions.admitMany([{ input: draft(user), capped: true }, { input: draft(user), capped: false }], 0);
      assert.deepEqual(none.map((o) => [o.admitted, o.inFlight]), [[false, 4], [true, 4]]);
      assert.equal(await store.submissions.countActiveByUser(user), 5);
    });

    test("admitMany is all or nothing: one row the database refuses, or one invalid input, writes none of the batch", async () => {
      const user = `admit-none-${randomUUID()}`;
      const refusedByDatabase = [draft(user), draft(user, "print('\u0000')"), draft(user)];
      const invalid = [draft(user), { ...draft(user), total: -1 }, draft(user)];
      for (const batch of store.kind === "mongodb" ? [invalid] : [refusedByDatabase, invalid]) {
        await assert.rejects(store.submissions.admitMany(batch.map((input) => ({ input, capped: true })), 10), (error: Error & { code?: string }) => error.code === "VALIDATION_FAILED");
        assert.equal((await store.submissions.listByUser(user, { page: 1, limit: 10 })).total, 0, "nothing of the batch was written");
      }
    });

    test("admitMany: a batch of 128 distinct users (one lock each on PostgreSQL) is admitted whole", async () => {
      const prefix = `wide-${randomUUID()}`;
      const outcomes = await store.submissions.admitMany(Array.from({ length: 128 }, (_, i) => ({ input: draft(`${prefix}-${i}`), capped: true })), 1);
      assert.deepEqual(new Set(outcomes.map((o) => `${o.admitted}/${o.inFlight}`)), new Set(["true/0"]));
    });
  });
}

// Two replicas on one PostgreSQL server: each store has its own connection pool, and their
// batches for the same user run at the same moment. The cap must hold across them (without
// admit_submissions' per-user lock, both count the same snapshot and both insert).
describe("admitMany across two stores on one PostgreSQL server", () => {
  let stores: Store[];
  let drop: () => Promise<void>;
  before(async () => {
    const db = await createTestDatabase("admit_replicas");
    drop = db.drop;
    stores = [await createStore({ kind: "postgres", url: db.url })];
    stores.push(await createStore({ kind: "postgres", url: db.url }));
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await drop();
  });

  test("concurrent batches for one user from both stores: exactly the cap is admitted, in 20 rounds", async () => {
    const max = 3;
    for (let round = 0; round < 20; round += 1) {
      const user = `race-${round}-${randomUUID()}`;
      // Four batches in flight per store (each on its own pooled connection), two requests each.
      const batches = Array.from({ length: 8 }, (_, i) => stores[i % 2]!.submissions.admitMany([0, 1].map(() => ({ input: draft(user), capped: true })), max));
      const outcomes = (await Promise.all(batches)).flat();
      assert.equal(outcomes.filter((o) => o.admitted).length, max, `round ${round}: admitted`);
      assert.equal(await stores[0]!.submissions.countActiveByUser(user), max, `round ${round}: stored`);
      // Places are distinct: 0..max-1, each once.
      assert.deepEqual(outcomes.filter((o) => o.admitted).map((o) => o.inFlight).sort(), [0, 1, 2]);
    }
  });
});
