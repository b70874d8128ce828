// The MongoDB-wire-compatible stand-in (not MongoDB) refuses what MongoDB refuses, so an adapter
// bug of that kind fails here as it would on a server, and refuses what it does not implement
// instead of answering wrongly. Through the official driver, as the adapter talks to it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MongoBulkWriteError, MongoClient, MongoServerError, ObjectId, type Db } from "mongodb";
import { startMongoStandin, type RunningStandin } from "./mongo-standin.server.js";

const refusedWith = (code: number) => (error: unknown) => error instanceof MongoServerError && error.code === code;

describe("mongodb wire-compatible stand-in (not MongoDB)", () => {
  let standin: RunningStandin;
  let client: MongoClient;
  let db: Db;
  before(async () => {
    standin = await startMongoStandin();
    client = new MongoClient(standin.url, { serverSelectionTimeoutMS: 5_000 });
    await client.connect();
    db = client.db("standin_self_test");
  });
  after(async () => {
    await client.close();
    await standin.close();
  });

  it("keeps _id and partial unique indexes unique, and names the clash in an unordered insertMany", async () => {
    const jobs = db.collection("jobs");
    await jobs.createIndexes([{ key: { problemId: 1 }, name: "one_marking", unique: true, partialFilterExpression: { status: "marking" } }]);
    const problemId = new ObjectId();
    await jobs.insertOne({ problemId, status: "marking" });
    await jobs.insertOne({ problemId, status: "marked" }); // outside the partial index: no clash
    await assert.rejects(jobs.insertOne({ problemId, status: "marking" }), refusedWith(11000));
    const _id = new ObjectId();
    await assert.rejects(jobs.insertMany([{ _id }, { _id }, { n: 3 }], { ordered: false }), (error: unknown) => {
      assert.ok(error instanceof MongoBulkWriteError);
      assert.deepEqual(Array.isArray(error.writeErrors) ? error.writeErrors.map((e) => [e.index, e.code]) : [], [[1, 11000]]);
      return true;
    });
    assert.equal(await jobs.countDocuments({ _id }), 1);
    assert.equal(await jobs.countDocuments({ n: 3 }), 1, "unordered: the rest of the batch is written");
    // Moving a document into the partial index is checked too.
    await assert.rejects(jobs.findOneAndUpdate({ problemId, status: "marked" }, { $set: { status: "marking" } }), refusedWith(11000));
  });

  it("refuses an update that would break a unique index, or change _id, and leaves the document as it was", async () => {
    const jobs = db.collection("jobs2");
    await jobs.createIndexes([{ key: { key: 1 }, name: "key", unique: true }]);
    await jobs.insertMany([{ key: "a" }, { key: "b" }]);
    await assert.rejects(jobs.updateOne({ key: "b" }, { $set: { key: "a" } }), refusedWith(11000));
    await assert.rejects(jobs.findOneAndUpdate({ key: "b" }, { $set: { _id: new ObjectId() } }), refusedWith(66));
    assert.deepEqual((await jobs.find({}, { projection: { _id: 0 } }).sort({ key: 1 }).toArray()).map((d) => d["key"]), ["a", "b"]);
  });

  it("refuses what MongoDB refuses in an update: two operators on one path, a $group in an update pipeline", async () => {
    const counters = db.collection("counters");
    const { insertedId } = await counters.insertOne({ stats: { n: 1 } });
    await assert.rejects(counters.updateOne({ _id: insertedId }, { $set: { "stats.n": 2 }, $inc: { stats: 1 } }), refusedWith(40));
    await assert.rejects(counters.updateOne({ _id: insertedId }, [{ $group: { _id: null } }] as never), refusedWith(72));
    const piped = await counters.findOneAndUpdate({ _id: insertedId }, [{ $set: { n: { $add: [{ $ifNull: ["$n", 0] }, 1] } } }], { returnDocument: "after" });
    assert.equal(piped?.["n"], 1, "an update pipeline is applied (mingo's $set stage)");
  });

  it("refuses a second index under a taken name with another spec, or the same spec under another name", async () => {
    const things = db.collection("things");
    await things.createIndexes([{ key: { a: 1 }, name: "a" }]);
    await things.createIndexes([{ key: { a: 1 }, name: "a" }]); // identical: a no-op, as on a server
    await assert.rejects(things.createIndexes([{ key: { b: 1 }, name: "a" }]), refusedWith(86));
    await assert.rejects(things.createIndexes([{ key: { a: 1 }, name: "a_again" }]), refusedWith(85));
  });

  it("says so when asked for what it does not implement (an upsert, an unknown command)", async () => {
    await assert.rejects(db.collection("things").updateOne({ a: 1 }, { $set: { a: 2 } }, { upsert: true }), refusedWith(238));
    await assert.rejects(db.command({ replSetGetStatus: 1 }), refusedWith(59));
  });
});
