// Rejudge, submission-service side, through real boundaries (PGlite, real Redis, BullMQ, the
// results consumer, socket.io): the store's state machine, the internal routes (a recorded
// request, marked by the feeder in the background), the feeder's bounded window and priority,
// late results of a superseded generation, and the bound on a job that never stores a result.
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { signServiceToken } from "@sonocode/auth";
import { EVALUATION_JOBS, QUEUES, SOCKET_EVENTS, submissionJobId, type EvaluationResult, type Submission, type SubmissionJob } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { createSocketServer, type SocketServer } from "@sonocode/socket-service";
import { eventually } from "@sonocode/testkit";
import { Queue, Worker } from "bullmq";
import { io as connectClient, type Socket } from "socket.io-client";
import {
  createProblemClient,
  createRejudgeFeeder,
  createResultConsumer,
  rejudgeGaveUpMessage,
  REJUDGE_PRIORITY,
  type RejudgeFeeder,
  type RejudgeFeederDeps,
  type ResultConsumerHandle,
} from "../src/index.js";
import { JWT_SECRET, bearer, recordAndMarkRejudge, startHarness, tokenFor, type Harness } from "./harness.js";

let h: Harness;
let consumer: ResultConsumerHandle;
let feeder: RejudgeFeeder;
let evaluationQueue: Queue;
let httpServer: HttpServer;
let sockets: SocketServer;
let socketUrl: string;
const clients: Socket[] = [];

function verdict(submission: Submission, status: EvaluationResult["status"], generation?: number): EvaluationResult {
  return {
    submissionId: submission._id,
    userId: submission.userId,
    status,
    passed: status === "Success" ? 2 : 0,
    total: 2,
    timeMs: 5,
    memoryKb: 1_000,
    results: [],
    compileOutput: null,
    failedTest: null,
    message: null,
    ...(generation === undefined ? {} : { generation }),
  };
}

/** A submission of the harness's problem, judged once with `status`. */
async function judged(userId: string, status: EvaluationResult["status"]): Promise<Submission> {
  const created = await h.store.submissions.create({ userId, problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 });
  const { submissionId: _s, userId: _u, generation: _g, ...fields } = verdict(created, status);
  const outcome = await h.store.submissions.finalize(created._id, { ...fields, score: status === "Success" ? 100 : 0 }, 0);
  assert.ok(outcome?.applied);
  assert.equal(outcome.submission.score, status === "Success" ? 100 : 0);
  return outcome.submission;
}

async function rejudgeProblem(problemId = h.problem._id, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await h.app.inject({
    method: "POST",
    url: `/internal/v1/problems/${problemId}/rejudge`,
    headers: { authorization: `Bearer ${await signServiceToken("problem-service", JWT_SECRET)}` },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: response.statusCode, body: response.json() };
}

async function progress(rejudgeId: string, token?: string): Promise<{ status: number; body: any }> {
  const response = await h.app.inject({
    method: "GET",
    url: `/internal/v1/rejudges/${rejudgeId}`,
    headers: { authorization: `Bearer ${token ?? (await signServiceToken("problem-service", JWT_SECRET))}` },
  });
  return { status: response.statusCode, body: response.json() };
}

async function connectAs(userId: string): Promise<Submission[]> {
  const client = connectClient(socketUrl, { auth: { token: await tokenFor(userId) }, transports: ["websocket"], reconnection: false });
  clients.push(client);
  const finals: Submission[] = [];
  client.on(SOCKET_EVENTS.result, (payload: Submission) => finals.push(payload));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("connect_error", reject);
  });
  return finals;
}

before(async () => {
  h = await startHarness("rejudge");
  consumer = createResultConsumer({ store: h.store, redisUrl: h.redisUrl, prefix: h.prefix, logger: silentLogger(), concurrency: 2 });
  feeder = feederWith({ window: 2 });
  evaluationQueue = new Queue(QUEUES.evaluation, { connection: { url: h.redisUrl }, prefix: h.prefix });
  httpServer = createServer();
  sockets = await createSocketServer(httpServer, { redisUrl: h.redisUrl, prefix: h.prefix, jwtSecret: JWT_SECRET, logger: silentLogger() });
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  socketUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  await consumer.worker.waitUntilReady();
});

after(async () => {
  for (const client of clients) client.disconnect();
  await sockets.close();
  await consumer.close();
  await feeder.close();
  await evaluationQueue.obliterate({ force: true }).catch(() => {});
  await evaluationQueue.close();
  await h.close();
});

/** A feeder over this file's harness, ticked by the test only (runOnce), with a short period lock. */
function feederWith(options: Pick<RejudgeFeederDeps, "window" | "reensureMs" | "maxAttempts" | "marking">): RejudgeFeeder {
  return createRejudgeFeeder({
    store: h.store,
    problems: createProblemClient({ baseUrl: h.problemServiceUrl, jwtSecret: JWT_SECRET }),
    submissionQueue: h.queue.queue,
    redisUrl: h.redisUrl,
    prefix: h.prefix,
    logger: silentLogger(),
    periodMs: 50,
    autoStart: false,
    ...options,
  });
}

/** Let `ms` pass for the feeder's period lock to lapse between two ticks. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("rejudge (submission-service)", () => {
  test("the internal route takes service tokens only", async () => {
    const asAdmin = await h.app.inject({ method: "POST", url: `/internal/v1/problems/${h.problem._id}/rejudge`, headers: await bearer("root", "admin") });
    assert.equal(asAdmin.statusCode, 403);
    const anonymous = await h.app.inject({ method: "POST", url: `/internal/v1/problems/${h.problem._id}/rejudge` });
    assert.equal(anonymous.statusCode, 401);
    assert.equal((await progress("0".repeat(24), await tokenFor("root", "admin"))).status, 403);
    const unknown = await progress("0".repeat(24));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "NOT_FOUND");
    assert.equal((await progress("not-an-id")).status, 400);
  });

  test("state machine: back to Pending with previousStatus; stale results dropped; the new verdict reaches the owner; a bounded, low-priority window", async () => {
    const finals = await connectAs("rita");
    const wrong = await judged("rita", "WA");
    const right = await judged("rita", "Success");
    const third = await judged("sam", "TLE");
    // In flight when the rejudge comes: it has no final status to keep.
    const inFlight = await h.store.submissions.create({ userId: "sam", problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 });

    const requested = await rejudgeProblem();
    assert.equal(requested.status, 202, JSON.stringify(requested.body));
    assert.deepEqual([requested.body.data.queued, requested.body.data.marked, requested.body.data.status, requested.body.data.created], [4, 0, "marking", true]);
    // Only recorded: the feeder's tick marks it (then queues its window, below).
    assert.equal((await h.store.submissions.findById(wrong._id))?.status, "WA");
    const report = await feeder.runOnce();
    assert.deepEqual(report?.marking, { moved: 4, finished: 1, marking: 0, failed: 0 });
    const marked = await progress(requested.body.data._id);
    assert.equal(marked.status, 200);
    assert.deepEqual([marked.body.data.status, marked.body.data.marked, marked.body.data.pending], ["marked", 4, 4]);

    const after = await Promise.all([wrong, right, third, inFlight].map((s) => h.store.submissions.findById(s._id)));
    assert.deepEqual(after.map((s) => [s?.status, s?.previousStatus, s?.rejudgeGeneration]), [
      ["Pending", "WA", 1],
      ["Pending", "Success", 1],
      ["Pending", "TLE", 1],
      ["Pending", null, 1],
    ]);
    assert.ok(after.every((s) => s?.rejudgedAt && s.results.length === 0 && s.timeMs === null && s.score === undefined), "the old verdict is cleared");
    // Rejudges belong to the feeder: not the reconciler's scan, not the owner's in-flight cap.
    assert.equal((await h.store.submissions.listActive({ createdBefore: new Date(Date.now() + 60_000).toISOString(), limit: 100 })).length, 0);
    assert.equal(await h.store.submissions.countActiveByUser("sam"), 0);

    // The window: two jobs queued (oldest rejudges first), at REJUDGE_PRIORITY, one id per generation.
    assert.equal(report?.enqueued, 2);
    const queued = await h.queue.queue.getJobs(["prioritized", "waiting"]);
    assert.deepEqual(queued.map((job) => job.id).sort(), [submissionJobId(wrong._id, 1), submissionJobId(right._id, 1)].sort());
    for (const job of queued) {
      assert.equal(job.opts.priority, REJUDGE_PRIORITY);
      assert.equal((job.data as SubmissionJob).generation, 1);
    }
    await pause(60);
    assert.equal((await feeder.runOnce())?.enqueued, 0, "a full window adds nothing");

    // A late result and progress of the first judging (generation 0) change nothing and notify nobody.
    const stale = await evaluationQueue.add(EVALUATION_JOBS.result, verdict(wrong, "WA", 0));
    await evaluationQueue.add(EVALUATION_JOBS.progress, { submissionId: wrong._id, userId: "rita", status: "Running", passed: 1, total: 2, generation: 0 });
    await eventually(async () => (await stale.getState()) === "completed", "the stale result consumed");
    assert.equal((await h.store.submissions.findById(wrong._id))?.status, "Pending");

    // The rejudge's own result is applied and reaches its owner, as generation 1.
    const fresh = await evaluationQueue.add(EVALUATION_JOBS.result, verdict(wrong, "Success", 1));
    await eventually(async () => (await fresh.getState()) === "completed", "the rejudge result consumed");
    const rejudged = await h.store.submissions.findById(wrong._id);
    assert.deepEqual([rejudged?.status, rejudged?.previousStatus, rejudged?.rejudgeGeneration], ["Success", "WA", 1]);
    await eventually(() => finals.some((f) => f._id === wrong._id && f.status === "Success" && f.rejudgeGeneration === 1), "the new final event");
    assert.equal(finals.filter((f) => f._id === wrong._id).length, 1, "exactly one final event: none for the stale result");

    // One left the window: the next rejudge in line gets its job.
    await pause(60);
    const next = await feeder.runOnce();
    assert.equal(next?.enqueued, 1);
    assert.ok(await h.queue.queue.getJob(submissionJobId(third._id, 1)));
  });

  test("the feeder owns its rejudges: a job lost from Redis, or finished without its result reaching the database, is queued again", async () => {
    // A feeder of its own with nothing trusted for long, over an otherwise idle problem.
    const problem = await h.store.problems.create({ ...h.problem, title: "lost jobs" });
    const created = await h.store.submissions.create({ userId: "una", problemId: problem._id, language: "PYTHON", code: "print(3)", total: 2 });
    const { submissionId: _s, userId: _u, generation: _g, ...fields } = verdict(created, "WA");
    await h.store.submissions.finalize(created._id, fields, 0);
    await recordAndMarkRejudge(h.store, problem._id);
    const jobId = submissionJobId(created._id, 1);
    const eager = feederWith({ window: 100, reensureMs: 100 });
    try {
      const tick = async () => {
        await pause(120);
        return eager.runOnce();
      };
      await tick();
      assert.ok(await h.queue.queue.getJob(jobId), "queued");
      // Lost: Redis no longer has it.
      await (await h.queue.queue.getJob(jobId))!.remove();
      await tick();
      assert.ok(await h.queue.queue.getJob(jobId), "queued again after a loss");
      // Finished without a result: an evaluator that completed the job and whose result never came.
      const worker = new Worker(QUEUES.submission, async () => "done", { connection: { url: h.redisUrl }, prefix: h.prefix });
      await eventually(async () => (await h.queue.queue.getJobState(jobId)) === "completed", "the job completed without a result");
      await worker.close();
      const finishedOn = (await h.queue.queue.getJob(jobId))!.finishedOn!;
      await tick();
      const again = await h.queue.queue.getJob(jobId);
      assert.ok(again && again.finishedOn === undefined && (again.timestamp ?? 0) >= finishedOn, "a fresh job replaced the finished one");
    } finally {
      await eager.close();
    }
    // Everything else this file left in the queue was processed by that worker: only this problem's rows matter here.
    assert.equal((await h.store.submissions.findById(created._id))?.status, "Pending");
  });

  test("a second rejudge before the first finishes keeps the last final status and supersedes generation 1", async () => {
    const once = await judged("tom", "RE");
    for (let i = 0; i < 2; i++) {
      assert.equal((await rejudgeProblem()).body.data.created, true);
      await pause(60);
      await feeder.runOnce();
    }
    const twice = await h.store.submissions.findById(once._id);
    assert.deepEqual([twice?.status, twice?.previousStatus, twice?.rejudgeGeneration], ["Pending", "RE", 2]);
    // Generation 1's result is now stale: finalize refuses it.
    const { submissionId: _s, userId: _u, generation: _g, ...fields } = verdict(once, "Success");
    const refused = await h.store.submissions.finalize(once._id, fields, 1);
    assert.equal(refused?.applied, false);
    assert.equal(refused?.submission.status, "Pending");
    assert.equal((await h.store.submissions.finalize(once._id, fields, 2))?.applied, true);
  });
  test("a request only records the rejudge: asked again while it marks, the same one comes back; another feeder resumes the marking from the database", async () => {
    const problem = await h.store.problems.create({ ...h.problem, title: "durable" });
    const created = await h.store.submissions.createMany(Array.from({ length: 5 }, () => ({ userId: "walt", problemId: problem._id, language: "PYTHON" as const, code: "print(3)", total: 2 })));
    const first = await rejudgeProblem(problem._id, { requestedBy: "admin-7" });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual([first.body.data.created, first.body.data.queued, first.body.data.marked, first.body.data.status, first.body.data.requestedBy], [true, 5, 0, "marking", "admin-7"]);
    const again = await rejudgeProblem(problem._id);
    assert.equal(again.status, 202);
    assert.deepEqual([again.body.data.created, again.body.data._id, again.body.message], [false, first.body.data._id, "rejudge already in progress"]);
    assert.equal((await rejudgeProblem(problem._id, { requestedBy: 7 })).status, 400, "a malformed body is refused");

    // Two pages of 2 per tick at most (a zero budget: one page per rejudge and tick).
    const slowFeeder = () => feederWith({ window: 1, marking: { pageSize: 2, budgetMs: 0 } });
    const before = slowFeeder();
    try {
      await pause(60);
      assert.equal((await before.runOnce())?.marking?.moved, 2);
    } finally {
      await before.close();
    }
    const halfway = await progress(first.body.data._id);
    assert.deepEqual([halfway.body.data.status, halfway.body.data.marked, halfway.body.data.pending], ["marking", 2, 2]);
    // A fresh feeder (a restarted process: nothing of the first one's memory) carries on.
    const after = slowFeeder();
    try {
      for (const expected of [2, 1]) {
        await pause(60);
        assert.equal((await after.runOnce())?.marking?.moved, expected);
      }
    } finally {
      await after.close();
    }
    const done = await progress(first.body.data._id);
    assert.deepEqual([done.body.data.status, done.body.data.marked, typeof done.body.data.markedAt], ["marked", 5, "string"]);
    const rows = await Promise.all(created.map((s) => h.store.submissions.findById(s._id)));
    assert.ok(rows.every((s) => s?.status === "Pending" && s.rejudgeGeneration === 1), "each submission moved once");
    // Marked: the next request is a new rejudge.
    const next = await rejudgeProblem(problem._id);
    assert.equal(next.body.data.created, true);
    assert.notEqual(next.body.data._id, first.body.data._id);
  });

  test("a rejudge job that always finishes without its result is judged maxAttempts times, then made IE for its owner and counted", async () => {
    const finals = await connectAs("vera");
    const problem = await h.store.problems.create({ ...h.problem, title: "poison" });
    const created = await h.store.submissions.create({ userId: "vera", problemId: problem._id, language: "PYTHON", code: "print(3)", total: 2 });
    const { submissionId: _s, userId: _u, generation: _g, ...fields } = verdict(created, "WA");
    await h.store.submissions.finalize(created._id, fields, 0);
    await recordAndMarkRejudge(h.store, problem._id);
    const jobId = submissionJobId(created._id, 1);
    const poisoned = feederWith({ window: 100, reensureMs: 100, maxAttempts: 3 });
    // An evaluator that "finishes" every job and never publishes a result.
    const judgings: string[] = [];
    const worker = new Worker(
      QUEUES.submission,
      async (job) => {
        judgings.push(job.id ?? "");
        return "done";
      },
      { connection: { url: h.redisUrl }, prefix: h.prefix },
    );
    try {
      const final = await eventually(
        async () => {
          await pause(120);
          await poisoned.runOnce();
          const submission = await h.store.submissions.findById(created._id);
          return submission?.status === "IE" ? submission : null;
        },
        "the poison rejudge made IE",
        30_000,
      );
      assert.equal(final.message, rejudgeGaveUpMessage(3));
      assert.deepEqual([final.previousStatus, final.rejudgeGeneration], ["WA", 1]);
      assert.equal(judgings.filter((id) => id === jobId).length, 3, "judged exactly maxAttempts times");
      assert.ok(poisoned.stats().gaveUp >= 1);
      await eventually(() => finals.some((f) => f._id === created._id && f.status === "IE" && f.rejudgeGeneration === 1), "the owner's IE event");
      // Out of the window for good: its slot is free and no job of it is left.
      assert.equal(await h.queue.queue.getJob(jobId), undefined);
      assert.ok(!(await h.store.rejudges.listRejudging(1_000)).some((ref) => ref._id === created._id));
    } finally {
      await worker.close();
      await poisoned.close();
    }
  });
});
