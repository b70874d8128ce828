// The MongoDB rejudge steps where the two writes of a step can be separated (a stall or a crash
// between them): a stalled step never touches a later rejudge's documents, `marked` is exact after
// a crash, a repeated request pays no count, and a request that can neither insert nor find one
// is a typed 409. Runs on MONGO_URL or the stand-in (mongo-target.ts), through the real driver;
// the repository under test gets a Db whose collections can be held or made to fail.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { isAppError } from "@sonocode/errors";
import { MongoClient, MongoServerError, type Db } from "mongodb";
import { createStore, type Store } from "../src/index.js";
import { MongoRejudgeRequests } from "../src/mongodb/rejudge-requests.repo.js";
import { mongoTarget } from "./mongo-target.js";
import { newSubmission, problemInput } from "./store.contract.js";

type Hooks = Record<string, Record<string, (original: (...args: unknown[]) => unknown, args: unknown[]) => unknown>>;

/** db, with the methods named in hooks (per collection) wrapped. */
function hookedDb(db: Db, hooks: Hooks): Db {
  return new Proxy(db, {
    get(target, key, receiver) {
      if (key !== "collection") return Reflect.get(target, key, receiver) as unknown;
      return (name: string) => {
        const collection = target.collection(name);
        const own = hooks[name] ?? {};
        return new Proxy(collection, {
          get(coll, method, r) {
            const value = Reflect.get(coll, method, r) as unknown;
            const hook = typeof method === "string" ? own[method] : undefined;
            if (!hook || typeof value !== "function") return value;
            return (...args: unknown[]) => hook((...a: unknown[]) => (value as (...x: unknown[]) => unknown).apply(coll, a), args);
          },
        });
      };
    },
  });
}

describe(`store rejudges, separated step writes: ${mongoTarget.name}`, () => {
  const dbName = `sonocode_rejudge_steps_${randomBytes(6).toString("hex")}`;
  let client: MongoClient;
  let db: Db;
  let store: Store;
  before(async () => {
    const url = await mongoTarget.url();
    store = await createStore({ kind: "mongodb", url, dbName });
    client = new MongoClient(url);
    await client.connect();
    db = client.db(dbName);
  });
  after(async () => {
    await store.close();
    await db.dropDatabase();
    await client.close();
  });

  async function problemWith(count: number): Promise<string> {
    const problem = await store.problems.create(problemInput());
    await store.submissions.createMany(Array.from({ length: count }, () => newSubmission({ problemId: problem._id, userId: "ida" })));
    return problem._id;
  }

  it("a step stalled past its rejudge's end never moves a later rejudge's submissions", async () => {
    const problemId = await problemWith(4);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atPage = new Promise<void>((resolve) => (reached = resolve));
    // The stalled replica: its step has read the position and the page, then waits before its updateMany.
    const slow = new MongoRejudgeRequests(hookedDb(db, { submissions: { updateMany: async (original, args) => (reached(), await held, original(...args)) } }));
    const first = await store.rejudgeRequests.request(problemId, { at: new Date(Date.now() - 60_000).toISOString(), requestedBy: null });
    const stalled = slow.markNext(first.rejudge._id, 10, new Date().toISOString());
    await atPage;
    // Meanwhile another replica marks the first rejudge whole, and a second rejudge of the problem marks too.
    assert.equal((await store.rejudgeRequests.markNext(first.rejudge._id, 10, new Date().toISOString()))?.done, true);
    const second = await store.rejudgeRequests.request(problemId, { at: new Date().toISOString(), requestedBy: null });
    assert.equal(second.created, true);
    assert.equal((await store.rejudgeRequests.markNext(second.rejudge._id, 10, new Date().toISOString()))?.done, true);
    release();
    assert.deepEqual(await stalled, { moved: 0, done: false });
    const window = (await store.rejudges.listRejudging(100)).filter((ref) => ref.problemId === problemId);
    assert.deepEqual(window.map((ref) => ref.rejudgeGeneration), [2, 2, 2, 2], "each submission belongs to the second rejudge, once");
    assert.equal((await store.rejudgeRequests.findById(second.rejudge._id))?.pending, 4);
    assert.equal((await store.rejudgeRequests.findById(first.rejudge._id))?.marked, 4);
  });

  it("marked is exact when a step crashed between moving its page and advancing the position", async () => {
    const problemId = await problemWith(5);
    let crashes = 1;
    const crashing = new MongoRejudgeRequests(
      hookedDb(db, {
        rejudges: {
          updateOne: (original, args) => {
            if (crashes-- > 0) throw new Error("crashed before advancing");
            return original(...args);
          },
        },
      }),
    );
    const { rejudge } = await crashing.request(problemId, { at: new Date().toISOString(), requestedBy: null });
    await assert.rejects(crashing.markNext(String(rejudge._id), 3, new Date().toISOString()), /crashed before advancing/);
    // Resumed (this or another replica): the page is redone, moves nothing twice, and still counts.
    assert.deepEqual(await store.rejudgeRequests.markNext(String(rejudge._id), 3, new Date().toISOString()), { moved: 0, done: false });
    assert.deepEqual(await store.rejudgeRequests.markNext(String(rejudge._id), 3, new Date().toISOString()), { moved: 2, done: true });
    const done = await store.rejudgeRequests.findById(String(rejudge._id));
    assert.deepEqual([done?.status, done?.queued, done?.marked, done?.pending], ["marked", 5, 5, 5]);
  });

  it("a repeated request returns the rejudge marking without counting the problem's submissions again", async () => {
    const problemId = await problemWith(3);
    let counts = 0;
    const counting = new MongoRejudgeRequests(hookedDb(db, { submissions: { countDocuments: (original, args) => (counts++, original(...args)) } }));
    const first = await counting.request(problemId, { at: new Date().toISOString(), requestedBy: null });
    assert.equal(first.created, true);
    const before = counts;
    const again = await counting.request(problemId, { at: new Date().toISOString(), requestedBy: null });
    assert.deepEqual([again.created, again.rejudge._id], [false, first.rejudge._id]);
    // One count remains: the view's pending (the partial index of this rejudge's unfinished submissions).
    assert.equal(counts - before, 1, "no count of the problem's submissions");
  });

  it("a request that can neither record a rejudge nor find one marking is a typed 409, not a plain Error", async () => {
    const problemId = await problemWith(1);
    const refused = new MongoRejudgeRequests(
      hookedDb(db, {
        rejudges: {
          insertOne: () => Promise.reject(new MongoServerError({ message: "E11000 duplicate key", code: 11_000 })),
          findOne: () => Promise.resolve(null),
        },
      }),
    );
    await assert.rejects(refused.request(problemId, { at: new Date().toISOString(), requestedBy: null }), (error: unknown) => {
      assert.ok(isAppError(error), "an AppError");
      assert.deepEqual([error.code, error.status, error.retryAfterSeconds], ["CONFLICT", 409, 1]);
      return true;
    });
  });
});
