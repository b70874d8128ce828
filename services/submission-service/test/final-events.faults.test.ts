// Final events of verdicts written without an evaluator's result (the reconciler's and the rejudge
// feeder's IE, the run sweep's IE) and of results, when Redis refuses the append at that moment.
// Real PGlite, real problem-service, real Redis: the append is made to fail by making the
// user-events stream key a string (XADD answers WRONGTYPE, inside the same script), which touches
// nothing else (locks, BullMQ). Each of these finals must reach the stream once appends work
// again, even after the process that gave the verdict up is gone: before, the tick owners wrote
// the IE themselves and kept a failed event in memory, so a process that died first left a tab
// that stayed connected showing Pending for good while the database said IE.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EVALUATION_JOBS, QUEUES, RUN_RESULT_JOB, SOCKET_EVENTS, userEventEntrySchema, userEventsStreamKey, type RunResult } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { eventually } from "@sonocode/testkit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { createSubmissionNotifier } from "../src/notifications/submission.notifier.js";
import { createProblemClient, createRejudgeFeeder, createResultConsumer, createSubmissionReconciler, type ResultConsumerHandle } from "../src/index.js";
import { createRunSweeper } from "../src/workers/run.sweeper.js";
import { JWT_SECRET, recordAndMarkRejudge, startHarness, type Harness } from "./harness.js";

let h: Harness;
let redis: Redis;
let consumer: ResultConsumerHandle;
let evaluationQueue: Queue;
const closers: Array<() => Promise<void>> = [];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stream = () => userEventsStreamKey(h.prefix);

/** Redis refuses every append from now on (until heal()): the stream key holds a string. */
async function breakAppends(): Promise<void> {
  await redis.multi().del(stream()).set(stream(), "not a stream").exec();
}
async function heal(): Promise<void> {
  await redis.del(stream());
}

/** The stream's final events (result or run:result) for one id. */
async function finalsFor(id: string): Promise<Array<{ event: string; status: string }>> {
  if ((await redis.type(stream())) !== "stream") return [];
  const entries = (await redis.xrange(stream(), "-", "+")) as Array<[string, string[]]>;
  const out: Array<{ event: string; status: string }> = [];
  for (const [, fields] of entries) {
    const record: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
    const entry = userEventEntrySchema.parse(record);
    const payload = JSON.parse(entry.data) as { _id?: string; status: string };
    if (payload._id === id && entry.event !== SOCKET_EVENTS.progress) out.push({ event: entry.event, status: payload.status });
  }
  return out;
}

function problemClient() {
  return createProblemClient({ baseUrl: h.problemServiceUrl, jwtSecret: JWT_SECRET, timeoutMs: 2_000 });
}

/** A reconciler over this file's harness, ticked by the test only, with a short grace and period. */
function reconcilerForTest() {
  return createSubmissionReconciler({
    store: h.store,
    problems: problemClient(),
    submissionQueue: h.queue.queue,
    redisUrl: h.redisUrl,
    prefix: h.prefix,
    logger: silentLogger(),
    graceMs: 100,
    periodMs: 200,
    autoStart: false,
  });
}

/** The row (submission or run) once the results consumer has written its IE. */
function writtenIE<T extends { status: string }>(read: () => Promise<T | null>, what: string): Promise<T> {
  return eventually(async () => {
    const row = await read();
    return row?.status === "IE" ? row : null;
  }, `the results consumer to write ${what}`);
}

/** Nothing appended while appends fail; once healed, the parked result's replay appends `event` (IE) once. */
async function sentOnceAfterHeal(id: string, event: string): Promise<void> {
  await pause(300);
  assert.deepEqual(await finalsFor(id), [], "nothing appended while Redis refused");
  await heal();
  await eventually(async () => (await finalsFor(id)).length > 0, "the parked result's replay to append the event");
  await pause(300);
  assert.deepEqual(await finalsFor(id), [{ event, status: "IE" }], "sent once");
}

before(async () => {
  h = await startHarness("final-events");
  redis = new Redis(h.redisUrl);
  consumer = createResultConsumer({
    store: h.store,
    redisUrl: h.redisUrl,
    prefix: h.prefix,
    logger: silentLogger(),
    concurrency: 2,
    outageBackoff: { initialMs: 50, maxMs: 200 },
    runSweep: { autoStart: false },
  });
  evaluationQueue = new Queue(QUEUES.evaluation, { connection: { url: h.redisUrl }, prefix: h.prefix });
  await consumer.worker.waitUntilReady();
});

after(async () => {
  await heal();
  for (const close of closers) await close();
  await consumer.close();
  await evaluationQueue.obliterate({ force: true }).catch(() => undefined);
  await evaluationQueue.close();
  await redis.quit();
  await h.close();
});

describe("final events whose append failed are sent later, once", () => {
  // The reconciler and the rejudge feeder give a submission up by queuing its IE as a result:
  // the results consumer writes it and parks the job while the append fails, so the event goes
  // out once Redis takes appends again, even though the process that gave up is gone by then.
  test("reconciler: the IE of a submission whose problem is gone reaches the stream after its reconciler exited", async () => {
    const reconciler = reconcilerForTest();
    const doomed = await h.store.problems.create({ ...h.problem, title: "Deleted soon" });
    const submission = await h.store.submissions.create({ userId: "ann", problemId: doomed._id, language: "PYTHON", code: "print(3)", total: 2 });
    await h.store.problems.delete(doomed._id);
    await pause(150);

    await breakAppends();
    try {
      const first = await reconciler.runOnce();
      assert.equal(first?.failed, 1, JSON.stringify(first));
    } finally {
      await reconciler.close();
    }
    const stored = await writtenIE(() => h.store.submissions.findById(submission._id), "the IE");
    assert.match(stored.message ?? "", /problem no longer exists/);
    await sentOnceAfterHeal(submission._id, SOCKET_EVENTS.result);
  });

  test("rejudge feeder: the IE of a rejudge whose problem is gone reaches the stream after its feeder exited", async () => {
    const feeder = createRejudgeFeeder({
      store: h.store,
      problems: problemClient(),
      submissionQueue: h.queue.queue,
      redisUrl: h.redisUrl,
      prefix: h.prefix,
      logger: silentLogger(),
      periodMs: 50,
      autoStart: false,
    });
    const doomed = await h.store.problems.create({ ...h.problem, title: "Rejudged then deleted" });
    const created = await h.store.submissions.create({ userId: "bo", problemId: doomed._id, language: "PYTHON", code: "print(3)", total: 2 });
    const judged = await h.store.submissions.finalize(created._id, { status: "WA", passed: 0, total: 2, timeMs: 5, memoryKb: 1_000, results: [], compileOutput: null, failedTest: null, message: null, score: 0 }, 0);
    assert.ok(judged?.applied);
    await recordAndMarkRejudge(h.store, doomed._id);
    await h.store.problems.delete(doomed._id);

    await breakAppends();
    try {
      const first = await feeder.runOnce();
      assert.equal(first?.failed, 1, JSON.stringify(first));
    } finally {
      await feeder.close();
    }
    const stored = await writtenIE(() => h.store.submissions.findById(created._id), "the rejudge's IE");
    assert.deepEqual([stored.rejudgeGeneration, stored.previousStatus], [1, "WA"]);
    await sentOnceAfterHeal(created._id, SOCKET_EVENTS.result);
  });

  test("reconciler: a give-up that cannot be queued writes nothing; a later tick gives up again", async () => {
    // The IE is only ever written by the consumer: a give-up that could not be queued leaves the
    // row active (its owner sees Pending), never final without its event.
    const reconciler = reconcilerForTest();
    closers.push(() => reconciler.close());
    const doomed = await h.store.problems.create({ ...h.problem, title: "Deleted while Redis refuses writes" });
    const submission = await h.store.submissions.create({ userId: "cal", problemId: doomed._id, language: "PYTHON", code: "print(3)", total: 2 });
    await h.store.problems.delete(doomed._id);
    await pause(150);

    // EvaluationQueue refuses adds (its job counter holds a string: the add script's INCR fails),
    // as it would with Redis out of memory; nothing else of the tick is touched.
    const idKey = `${h.prefix}:${QUEUES.evaluation}:id`;
    const counter = await redis.get(idKey);
    await redis.set(idKey, "not a number");
    let first;
    try {
      first = await reconciler.runOnce();
    } finally {
      if (counter === null) await redis.del(idKey);
      else await redis.set(idKey, counter);
    }
    assert.deepEqual([first?.failed, first?.deferred], [0, 1], JSON.stringify(first));
    await pause(300);
    assert.equal((await h.store.submissions.findById(submission._id))?.status, "Pending", "not final without its event");

    const second = await eventually(async () => {
      await pause(250); // the period lock lapses
      const report = await reconciler.runOnce();
      return report && report.failed === 1 ? report : null;
    }, "a tick that gives it up");
    assert.equal(second.failed, 1);
    await eventually(async () => (await finalsFor(submission._id)).length > 0, "the IE's event");
    assert.equal((await h.store.submissions.findById(submission._id))?.status, "IE");
    assert.deepEqual(await finalsFor(submission._id), [{ event: SOCKET_EVENTS.result, status: "IE" }]);
  });

  test("run sweep: the IE of an overdue run reaches the stream once appends work again, the sweeper gone", async () => {
    const run = await h.store.runs.create({ userId: "cy", problemId: h.problem._id, language: "PYTHON", deadlineAt: new Date(Date.now() - 1_000).toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    // A sweeper of its own (the consumer's has no timer here), closed right after its sweep.
    const sweeper = createRunSweeper({ store: h.store, evaluationQueue, logger: silentLogger(), autoStart: false });
    await breakAppends();
    try {
      const first = await sweeper.runOnce();
      assert.ok(first.failed >= 1, JSON.stringify(first));
    } finally {
      await sweeper.close();
    }
    const stored = await writtenIE(() => h.store.runs.findById(run._id), "the run's IE");
    assert.match(stored.message ?? "", /did not finish in time/);
    await sentOnceAfterHeal(run._id, SOCKET_EVENTS.runResult);
  });

  test("run result: a run:result that cannot be appended parks the result job; its replay appends it once", async () => {
    const run = await h.store.runs.create({ userId: "di", problemId: h.problem._id, language: "PYTHON", deadlineAt: new Date(Date.now() + 60_000).toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const result: RunResult = { runId: run._id, userId: run.userId, status: "Success", compileOutput: null, results: [{ index: 0, input: "1 2\n", output: "3\n", expected: "3\n", status: "Success", timeMs: 10, memoryKb: 9_000 }], message: null };
    await breakAppends();
    const job = await evaluationQueue.add(RUN_RESULT_JOB, result);
    await eventually(async () => (await h.store.runs.findById(run._id))?.status === "Success", "the run finalized");
    // Parked (delayed), not completed: the event is still owed by the job.
    await eventually(async () => (await job.getState()) === "delayed" || (await job.getState()) === "active", "the job parked");
    await pause(300);
    assert.notEqual(await job.getState(), "completed", "completed without its event");
    await heal();
    await eventually(async () => (await job.getState()) === "completed", "the replay to complete the job");
    assert.deepEqual(await finalsFor(run._id), [{ event: SOCKET_EVENTS.runResult, status: "Success" }]);
    // A later replay of the same result: the mark says it went out.
    const again = await evaluationQueue.add(RUN_RESULT_JOB, result);
    await eventually(async () => (await again.getState()) === "completed", "the second replay");
    assert.deepEqual(await finalsFor(run._id), [{ event: SOCKET_EVENTS.runResult, status: "Success" }], "appended once");
  });

  test("submission result: a final event that cannot be appended parks the result job; its replay appends it once", async () => {
    const created = await h.store.submissions.create({ userId: "fay", problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 });
    const result = { submissionId: created._id, userId: "fay", status: "Success", passed: 2, total: 2, timeMs: 5, memoryKb: 1_000, results: [], compileOutput: null, failedTest: null, message: null };
    await breakAppends();
    const job = await evaluationQueue.add(EVALUATION_JOBS.result, result);
    await eventually(async () => (await h.store.submissions.findById(created._id))?.status === "Success", "the submission finalized");
    await pause(300);
    assert.notEqual(await job.getState(), "completed", "completed without its event");
    assert.deepEqual(await finalsFor(created._id), []);
    await heal();
    await eventually(async () => (await job.getState()) === "completed", "the replay to complete the job");
    assert.deepEqual(await finalsFor(created._id), [{ event: SOCKET_EVENTS.result, status: "Success" }]);
  });
});

describe("replays racing each other", () => {
  // Two replays of one final at once (an owed retry and a results-consumer replay of a late
  // result, or two replicas' reconcilers): the went-out mark must be checked in the append
  // itself, or both see no mark and both append.
  test("two concurrent replays of a submission's final append it once", async () => {
    const notifier = createSubmissionNotifier(redis, h.prefix);
    const created = await h.store.submissions.create({ userId: "gil", problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 });
    const outcome = await h.store.submissions.finalize(created._id, { status: "IE", passed: 0, total: 2, timeMs: null, memoryKb: null, results: [], compileOutput: null, failedTest: null, message: "internal error: test" }, 0);
    assert.ok(outcome?.applied);
    const sent = await Promise.all([notifier.final(outcome.submission, { replay: true }), notifier.final(outcome.submission, { replay: true })]);
    assert.deepEqual(sent.sort(), ["already-emitted", "emitted"]);
    assert.deepEqual(await finalsFor(created._id), [{ event: SOCKET_EVENTS.result, status: "IE" }], "appended once");
  });

  test("a replay that lands between the finalizer's write and its own append: the event goes out once", async () => {
    // The finalizer (reconciler, feeder, results consumer) commits the verdict; before its own
    // append runs, a replay that read the committed row (a late result, another replica's tick)
    // appends it and sets the mark. The finalizer's append must then add nothing.
    const notifier = createSubmissionNotifier(redis, h.prefix);
    const created = await h.store.submissions.create({ userId: "ike", problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 });
    const outcome = await h.store.submissions.finalize(created._id, { status: "IE", passed: 0, total: 2, timeMs: null, memoryKb: null, results: [], compileOutput: null, failedTest: null, message: "internal error: test" }, 0);
    assert.ok(outcome?.applied);
    assert.equal(await notifier.final(outcome.submission, { replay: true }), "emitted");
    assert.equal(await notifier.final(outcome.submission, { replay: false }), "already-emitted");
    assert.deepEqual(await finalsFor(created._id), [{ event: SOCKET_EVENTS.result, status: "IE" }], "appended once");
  });

  test("two concurrent replays of a run's run:result append it once", async () => {
    const { createRunNotifier } = await import("../src/notifications/run.notifier.js");
    const notifier = createRunNotifier(redis, h.prefix);
    const run = await h.store.runs.create({ userId: "hal", problemId: h.problem._id, language: "PYTHON", deadlineAt: new Date(Date.now() + 60_000).toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const outcome = await h.store.runs.finalize(run._id, { status: "IE", compileOutput: null, results: [], message: "internal error: test" });
    assert.ok(outcome?.applied);
    const sent = await Promise.all([notifier.final(outcome.run, { replay: true }), notifier.final(outcome.run, { replay: true })]);
    assert.deepEqual(sent.sort(), ["already-emitted", "emitted"]);
    assert.deepEqual(await finalsFor(run._id), [{ event: SOCKET_EVENTS.runResult, status: "IE" }], "appended once");
  });
});
