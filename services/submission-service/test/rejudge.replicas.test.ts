// Rejudge faults through real boundaries (PGlite, real Redis, BullMQ, the real problem-service):
// two feeders on one Redis looking at the same lost judging count it once (the period lock is
// held for half a period, so replicas' ticks overlap), and one rejudge whose marking step fails
// does not hold back the others; it stays marking and is retried.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { QUEUES, submissionJobId, type Submission } from "@sonocode/contracts";
import { REDACT_PATHS, silentLogger, type Logger } from "@sonocode/logger";
import { databaseUnavailable, isDatabaseUnavailable, type Store } from "@sonocode/store";
import { eventually } from "@sonocode/testkit";
import { Worker } from "bullmq";
import { pino } from "pino";
import { createProblemClient, createRejudgeFeeder, createRejudgeMarker, createResultConsumer, rejudgeGaveUpMessage, type RejudgeFeeder, type RejudgeFeederDeps, type ResultConsumerHandle } from "../src/index.js";
import { JWT_SECRET, recordAndMarkRejudge, startHarness, type Harness } from "./harness.js";

let h: Harness;
/** Writes the IE a feeder gives up with (queued as a result). */
let consumer: ResultConsumerHandle;
const feeders: RejudgeFeeder[] = [];

before(async () => {
  h = await startHarness("rejudge-replicas");
  consumer = createResultConsumer({ store: h.store, redisUrl: h.redisUrl, prefix: h.prefix, logger: silentLogger(), runSweep: { autoStart: false } });
});

after(async () => {
  for (const feeder of feeders) await feeder.close();
  await consumer.close();
  await h.close();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A feeder ticked by the test only (runOnce), as one replica of a deployment: this harness's Redis prefix. */
function feeder(store: Store, options: Pick<RejudgeFeederDeps, "window" | "reensureMs" | "maxAttempts" | "logger">): RejudgeFeeder {
  const created = createRejudgeFeeder({
    store,
    problems: createProblemClient({ baseUrl: h.problemServiceUrl, jwtSecret: JWT_SECRET }),
    submissionQueue: h.queue.queue,
    redisUrl: h.redisUrl,
    prefix: h.prefix,
    periodMs: 50,
    autoStart: false,
    ...options,
  });
  feeders.push(created);
  return created;
}

/** `store` with one repository method replaced (everything else is the real store). */
function replacing<K extends "submissions" | "rejudgeRequests">(store: Store, repository: K, method: keyof Store[K] & string, replacement: (...args: never[]) => unknown): Store {
  const inner = new Proxy(store[repository], { get: (target, prop, receiver) => (prop === method ? replacement : Reflect.get(target, prop, receiver)) });
  return new Proxy(store, { get: (target, prop, receiver) => (prop === repository ? inner : Reflect.get(target, prop, receiver)) });
}

/** A finished submission of a problem of its own, with its rejudge recorded and marked. */
async function rejudged(title: string, userId: string): Promise<Submission> {
  const problem = await h.store.problems.create({ ...h.problem, title });
  const created = await h.store.submissions.create({ userId, problemId: problem._id, language: "PYTHON", code: "print(3)", total: 2 });
  await h.store.submissions.finalize(created._id, { status: "WA", passed: 0, total: 2, timeMs: 5, memoryKb: 1_000, results: [], compileOutput: null, failedTest: null, message: null }, 0);
  await recordAndMarkRejudge(h.store, problem._id);
  return created;
}

/** An evaluator that completes the next job of `jobId` without ever publishing a result. */
async function finishWithoutResult(jobId: string, judgings: string[]): Promise<void> {
  const worker = new Worker(
    QUEUES.submission,
    async (job) => {
      judgings.push(job.id ?? "");
      return "done";
    },
    { connection: { url: h.redisUrl }, prefix: h.prefix },
  );
  try {
    await eventually(async () => (await h.queue.queue.getJobState(jobId)) === "completed", "the job completed without a result");
  } finally {
    await worker.close();
  }
}

describe("rejudge faults (submission-service)", () => {
  test("two feeders on one Redis that both see the same lost judging count it once: judged maxAttempts times before IE, not fewer", async () => {
    const submission = await rejudged("two replicas", "xena");
    const jobId = submissionJobId(submission._id, 1);
    // Both replicas' reads of this submission meet here: each has already seen its finished job,
    // and neither has counted it or queued it again. (Only while armed.)
    let armed = false;
    let arrived = 0;
    let releaseAll: () => void = () => {};
    const together = new Promise<void>((resolve) => (releaseAll = resolve));
    const meet = async () => {
      if (++arrived === 2) releaseAll();
      await Promise.race([together, pause(15_000).then(() => Promise.reject(new Error("the other feeder never reached the same judging")))]);
    };
    const shared = replacing(h.store, "submissions", "findById", async (id: string) => {
      if (armed && id === submission._id) await meet();
      return h.store.submissions.findById(id);
    });
    const options = { window: 100, reensureMs: 100, maxAttempts: 2, logger: silentLogger() };
    const [a, b] = [feeder(shared, options), feeder(shared, options)];
    const judgings: string[] = [];

    // Attempt 1: queued by one replica, finished without its result.
    await eventually(() => a.runOnce(), "feeder a's first tick");
    assert.ok(await h.queue.queue.getJob(jobId), "queued");
    await finishWithoutResult(jobId, judgings);
    await pause(150); // past reensureMs: the finished job now counts as a lost result

    // Both replicas act on it at once: a's tick waits at the submission until b's (in the next
    // lock period, a's half-period lock having lapsed) reaches the same finished job.
    armed = true;
    const first = a.runOnce();
    const second = await eventually(() => b.runOnce(), "feeder b's tick in the next lock period", 15_000);
    const firstReport = await first;
    armed = false;
    assert.ok(firstReport, "feeder a held its period's lock");
    assert.equal(firstReport.gaveUp + second.gaveUp, 0, "one lost judging is one attempt, whichever replicas saw it");
    const afterOne = await h.store.submissions.findById(submission._id);
    assert.deepEqual([afterOne?.status, afterOne?.rejudgeGeneration], ["Pending", 1]);
    const requeued = await h.queue.queue.getJob(jobId);
    assert.ok(requeued && requeued.finishedOn === undefined, "judged again (attempt 2 of 2)");

    // Attempt 2 lost too: now the count reaches maxAttempts and the rejudge is given up as IE.
    await finishWithoutResult(jobId, judgings);
    await pause(150);
    const last = await eventually(() => b.runOnce(), "feeder b's tick");
    assert.equal(last.gaveUp, 1, JSON.stringify(last));
    const final = await eventually(async () => {
      const row = await h.store.submissions.findById(submission._id);
      return row?.status === "IE" ? row : null;
    }, "the results consumer to write the IE");
    assert.deepEqual([final?.status, final?.message, final?.previousStatus], ["IE", rejudgeGaveUpMessage(2), "WA"]);
    assert.deepEqual(judgings, [jobId, jobId], "judged exactly maxAttempts times");
    assert.equal(await h.queue.queue.getJob(jobId), undefined);
  });

  test("a rejudge whose marking step fails is logged and left marking; the rejudges after it are marked and queued; it is marked once the fault is gone", async () => {
    // Two rejudges marking: the older one's step fails (its problem's rows cannot be updated, say).
    const problems = await Promise.all(["broken marking", "healthy marking"].map((title) => h.store.problems.create({ ...h.problem, title })));
    const [brokenProblem, healthyProblem] = [problems[0]!, problems[1]!];
    const code = "print('SECRET-USER-CODE')";
    for (const problem of problems) await h.store.submissions.createMany([1, 2, 3].map(() => ({ userId: "yuri", problemId: problem._id, language: "PYTHON" as const, code, total: 2 })));
    const broken = (await h.store.rejudgeRequests.request(brokenProblem._id, { at: new Date().toISOString(), requestedBy: null })).rejudge;
    await pause(5);
    const healthy = (await h.store.rejudgeRequests.request(healthyProblem._id, { at: new Date().toISOString(), requestedBy: null })).rejudge;
    assert.deepEqual((await h.store.rejudgeRequests.listMarking(100)).map((r) => r._id).slice(-2), [broken._id, healthy._id], "the failing one comes first");

    let fault: "statement" | "outage" | null = "statement";
    const faulty = replacing(h.store, "rejudgeRequests", "markNext", async (rejudgeId: string, limit: number, at: string) => {
      if (rejudgeId === broken._id && fault === "statement") throw new Error(`simulated: could not update the submissions of problem ${brokenProblem._id}`);
      if (rejudgeId === broken._id && fault === "outage") throw databaseUnavailable(new Error("simulated: connection refused"));
      return h.store.rejudgeRequests.markNext(rejudgeId, limit, at);
    });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger: Logger = pino({ level: "info", redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, sink);

    const tick = feeder(faulty, { window: 100, logger });
    const report = await eventually(() => tick.runOnce(), "a feeder tick");
    assert.deepEqual(report.marking, { moved: 3, finished: 1, marking: 1, failed: 1 });
    assert.equal((await h.store.rejudgeRequests.findById(broken._id))?.status, "marking", "left marking, to be retried");
    assert.equal((await h.store.rejudgeRequests.findById(healthy._id))?.status, "marked");
    const window = await h.store.rejudges.listRejudging(100);
    assert.equal(window.filter((ref) => ref.problemId === healthyProblem._id).length, 3, "the healthy rejudge's submissions are in the window");
    assert.ok(report.enqueued >= 3, "and queued in the same tick");
    const failures = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.rejudgeId === broken._id && entry.level === 50);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.problemId, brokenProblem._id);
    assert.ok(!lines.join("").includes("SECRET-USER-CODE"), "no user code in the logs");

    // A marker of its own over the same store: a second failure in a row is not logged again at once.
    const mark = createRejudgeMarker({ store: faulty, logger });
    lines.length = 0;
    assert.deepEqual(await mark(), { moved: 0, finished: 0, marking: 1, failed: 1 });
    assert.deepEqual(await mark(), { moved: 0, finished: 0, marking: 1, failed: 1 });
    assert.equal(lines.filter((line) => line.includes(broken._id)).length, 1, "one error line for two failures in a row");
    // The database away is not this rejudge's fault: the whole step fails (the feeder logs it once and retries).
    fault = "outage";
    await assert.rejects(mark(), (error: unknown) => isDatabaseUnavailable(error));
    // The fault gone: the next step marks it.
    fault = null;
    assert.deepEqual(await mark(), { moved: 3, finished: 1, marking: 0, failed: 0 });
    assert.equal((await h.store.rejudgeRequests.findById(broken._id))?.status, "marked");
  });
});
