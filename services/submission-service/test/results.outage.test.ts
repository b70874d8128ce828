// The result consumer against a real PostgreSQL server whose connection is cut:
// results wait the outage out (no attempt consumed, nothing failed), progress is
// skipped instead of piling up, and every verdict lands once the database is back.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EVALUATION_JOBS, QUEUES, type EvaluationResult } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { createStore, newObjectId, type Store } from "@sonocode/store";
import { createTestDatabase, eventually, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { Queue } from "bullmq";
import { startFaultProxy, type FaultProxy } from "../../../packages/store/test/tcp-fault.proxy.js";
import { createResultConsumer, type ResultConsumerHandle } from "../src/index.js";

let store: Store;
let proxy: FaultProxy;
let dropDatabase: () => Promise<void>;
let consumer: ResultConsumerHandle;
let queue: Queue;
const prefix = uniqueName("results-outage");

before(async () => {
  const database = await createTestDatabase("results_outage");
  dropDatabase = database.drop;
  const url = new URL(database.url);
  proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  store = await createStore({ kind: "postgres", url: url.toString() });
  consumer = createResultConsumer({ store, redisUrl: testRedisUrl(), prefix, logger: silentLogger(), concurrency: 4, outageBackoff: { initialMs: 100, maxMs: 400 } });
  queue = new Queue(QUEUES.evaluation, { connection: { url: testRedisUrl() }, prefix });
  await consumer.worker.waitUntilReady();
});

after(async () => {
  await consumer.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await store.close();
  await proxy.close();
  await dropDatabase();
});

function success(submissionId: string): EvaluationResult {
  return {
    submissionId,
    userId: "olga",
    status: "Success",
    passed: 1,
    total: 1,
    timeMs: 5,
    memoryKb: 1_000,
    results: [{ index: 0, status: "Success", timeMs: 5, memoryKb: 1_000 }],
    compileOutput: null,
    failedTest: null,
    message: null,
  };
}

describe("results consumer during a database outage", () => {
  test("results outlast the producer's retry budget, progress is skipped, and every verdict is applied after the outage", async () => {
    const submissions = await Promise.all(
      Array.from({ length: 6 }, () => store.submissions.create({ userId: "olga", problemId: newObjectId(), language: "PYTHON", code: "print(1)", total: 1 })),
    );
    await proxy.set("down");
    const outageStarted = Date.now();
    // The evaluator's own budget (2 attempts, 100 ms apart) is far shorter than the outage:
    // before this consumer, the second failure dropped the verdict for good.
    const results = await Promise.all(
      submissions.map((s) => queue.add(EVALUATION_JOBS.result, success(s._id), { attempts: 2, backoff: { type: "fixed", delay: 100 } })),
    );
    const progress = await Promise.all(
      submissions.map((s) => queue.add(EVALUATION_JOBS.progress, { submissionId: s._id, userId: "olga", status: "Running", passed: 0, total: 1 }, { attempts: 1 })),
    );

    // Progress is disposable: skipped at once, never parked behind the outage.
    await eventually(async () => {
      const states = await Promise.all(progress.map((job) => job.getState()));
      return states.every((state) => state === "completed");
    }, "progress jobs to complete as skipped", 10_000);
    for (const job of progress) assert.equal((await queue.getJob(job.id!))?.returnvalue, "skipped");

    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const job of results) {
      const state = await job.getState();
      assert.ok(["delayed", "waiting", "active"].includes(state), `result ${job.id} is ${state} during the outage`);
    }
    assert.equal(await queue.getFailedCount(), 0, "nothing failed during the outage");

    await proxy.set("up");
    const outageMs = Date.now() - outageStarted;
    const recoveryStarted = Date.now();
    await eventually(async () => {
      const states = await Promise.all(results.map((job) => job.getState()));
      return states.every((state) => state === "completed");
    }, "every result to be applied after the outage", 15_000);
    const recoveryMs = Date.now() - recoveryStarted;
    console.log(`[results-outage] outage ${outageMs} ms; all ${results.length} verdicts applied ${recoveryMs} ms after the database came back`);

    for (const job of results) {
      const done = await queue.getJob(job.id!);
      assert.equal(done?.returnvalue, "finalized");
      assert.ok((done?.attemptsStarted ?? 0) > 2, `job ${job.id} was activated ${done?.attemptsStarted} times, past the producer's 2 attempts`);
    }
    for (const submission of submissions) assert.equal((await store.submissions.findById(submission._id))?.status, "Success");
  });
});
