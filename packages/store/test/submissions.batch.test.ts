// The POST path's group commit in the store (issue 9): createMany writes a batch whole or
// not at all, in input order, and countActiveByUsers agrees with countActiveByUser, on
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

    test("countActiveByUsers: one count per user asked for (0 for none), equal to countActiveByUser, final ones not counted", async () => {
      const [a, b, none] = [`count-a-${randomUUID()}`, `count-b-${randomUUID()}`, `count-none-${randomUUID()}`];
      const created = await store.submissions.createMany([draft(a), draft(a), draft(a), draft(b)]);
      await store.submissions.finalize(created[0]!._id, { status: "WA", passed: 0, total: 3, timeMs: 1, memoryKb: 1, results: [], compileOutput: null, failedTest: null, message: null });
      await store.submissions.markRunning(created[1]!._id, { passed: 1, total: 3 });
      const counts = await store.submissions.countActiveByUsers([a, b, none, a]);
      assert.deepEqual([...counts.entries()].sort(), [[a, 2], [b, 1], [none, 0]].sort());
      for (const user of [a, b, none]) assert.equal(counts.get(user), await store.submissions.countActiveByUser(user));
      assert.equal((await store.submissions.countActiveByUsers([])).size, 0);
    });
  });
}
