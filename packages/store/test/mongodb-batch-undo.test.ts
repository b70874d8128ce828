// MongoDB createMany's undo (submissions.batch.ts), which needs no server: a batch insertMany
// partly refused is deleted again so the caller sees "none written"; when that delete fails, part
// of the batch may be stored, and the error must be DATABASE_UNAVAILABLE (never retried row by
// row: that would store and judge those submissions twice). The collection is a recording fake:
// no MongoDB server can run here, and a real one cannot be made to fail between the two writes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAppError } from "@sonocode/errors";
import { MongoBulkWriteError, MongoNetworkError, MongoServerError, ObjectId, type BulkWriteResult, type Collection, type Document } from "mongodb";
import { insertAllOrNone } from "../src/mongodb/submissions.batch.js";
import { isDatabaseUnavailable } from "../src/outage.js";

interface Doc {
  _id: ObjectId;
  n: number;
}

/** A collection whose insertMany throws `insertError` and whose deleteMany records its filter, then does `onDelete`. */
function fakeCollection(insertError: Error, onDelete: () => Promise<void>) {
  const deleted: ObjectId[][] = [];
  const collection = {
    insertMany: async () => {
      throw insertError;
    },
    deleteMany: async (filter: { _id: { $in: ObjectId[] } }) => {
      deleted.push(filter._id.$in);
      await onDelete();
      return { acknowledged: true, deletedCount: filter._id.$in.length };
    },
  };
  return { collection: collection as unknown as Collection<Doc>, deleted };
}

const docs = (): Doc[] => [0, 1, 2].map((n) => ({ _id: new ObjectId(), n }));

/** What an unordered insertMany throws when the server refused the document at `index` (built as the driver builds it). */
function refusedAt(index: number): MongoBulkWriteError {
  const writeError = { index, code: 11000, errmsg: "E11000 duplicate key error", errInfo: undefined, op: {} } as Document;
  return new MongoBulkWriteError({ message: "E11000 duplicate key error", code: 11000, writeErrors: [writeError] } as never, {} as BulkWriteResult);
}

describe("mongodb createMany undo (insertAllOrNone)", () => {
  it("deletes exactly the documents written and rethrows the insert's own error", async () => {
    const batch = docs();
    const error = refusedAt(1);
    const { collection, deleted } = fakeCollection(error, async () => {});
    await assert.rejects(insertAllOrNone(collection, batch), (thrown) => thrown === error);
    assert.deepEqual(deleted, [[batch[0]!._id, batch[2]!._id]], "the refused document was never written, the others are undone");
  });

  it("an error that says nothing of what was written undoes the whole batch", async () => {
    const batch = docs();
    const error = new MongoServerError({ message: "interrupted", code: 11601 });
    const { collection, deleted } = fakeCollection(error, async () => {});
    await assert.rejects(insertAllOrNone(collection, batch), (thrown) => thrown === error);
    assert.deepEqual(deleted, [batch.map((doc) => doc._id)]);
  });

  for (const [name, undoError] of [
    ["the server went away", new MongoNetworkError("connection reset")],
    ["the server refused the delete", new MongoServerError({ message: "not primary", code: 10107 })],
  ] as const) {
    it(`a failed undo (${name}) is DATABASE_UNAVAILABLE, carrying both errors, so nothing retries the rows`, async () => {
      const insertError = refusedAt(2);
      const { collection, deleted } = fakeCollection(insertError, async () => {
        throw undoError;
      });
      await assert.rejects(insertAllOrNone(collection, docs()), (thrown: unknown) => {
        assert.ok(isAppError(thrown) && isDatabaseUnavailable(thrown), "typed outage");
        const cause = (thrown as Error).cause;
        assert.ok(cause instanceof AggregateError);
        assert.deepEqual(cause.errors, [insertError, undoError]);
        return true;
      });
      assert.equal(deleted.length, 1, "one undo attempt");
    });
  }

  it("a batch the server refused whole needs no undo", async () => {
    const error = refusedAt(0);
    const { collection, deleted } = fakeCollection(error, async () => {
      throw new Error("must not be called");
    });
    await assert.rejects(insertAllOrNone(collection, [docs()[0]!]), (thrown) => thrown === error);
    assert.deepEqual(deleted, []);
  });
});
