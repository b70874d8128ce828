// The reconciler through real boundaries: PGlite, the real problem-service over
// HTTP, BullMQ on real Redis. The states it repairs are exactly those a crash
// leaves behind (a committed row without a job; a job that finished or failed
// without its result reaching the database); the test builds them directly.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { EVALUATION_JOBS, QUEUES, SUBMISSION_JOB, evaluationResultSchema, type EvaluationResult, type Submission } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { eventually } from "@sonocode/testkit";
import { Queue, Worker } from "bullmq";
import { buildSubmissionJob, createProblemClient, createSubmissionReconciler, type ReconcilerHandle } from "../src/index.js";
import { JWT_SECRET, startHarness, type Harness } from "./harness.js";

const GRACE_MS = 300;
let h: Harness;
let evaluationQueue: Queue;
let submissionWorker: Worker;
const reconcilers: ReconcilerHandle[] = [];

function reconciler(options: { periodMs?: number; maxRedrives?: number; autoStart?: boolean } = {}): ReconcilerHandle {
  const handle = createSubmissionReconciler({
    store: h.store,
    problems: createProblemClient({ baseUrl: problemServiceUrl, jwtSecret: JWT_SECRET, timeoutMs: 2_000 }),
    submissionQueue: h.queue.queue,
    redisUrl: h.redisUrl,
    prefix: h.prefix,
    logger: silentLogger(),
    graceMs: GRACE_MS,
    periodMs: options.periodMs ?? 200,
    maxRedrives: options.maxRedrives ?? 3,
    autoStart: options.autoStart ?? false,
  });
  reconcilers.push(handle);
  return handle;
}

let problemServiceUrl: string;

before(async () => {
  h = await startHarness("reconciler");
  problemServiceUrl = h.problemServiceUrl;
  evaluationQueue = new Queue(QUEUES.evaluation, { connection: { url: h.redisUrl }, prefix: h.prefix });
  // Manual processing (no processor): the test decides how each job ends.
  submissionWorker = new Worker(QUEUES.submission, null, { connection: { url: h.redisUrl, maxRetriesPerRequest: null }, prefix: h.prefix });
});

after(async () => {
  for (const r of reconcilers) await r.close();
  await submissionWorker.close();
  await evaluationQueue.obliterate({ force: true }).catch(() => undefined);
  await evaluationQueue.close();
  await h.close();
});

/** A committed Pending row whose enqueue never happened: what a crash between the two leaves. */
async function orphan(userId: string, problemId = h.problem._id): Promise<Submission> {
  return h.store.submissions.create({ userId, problemId, language: "PYTHON", code: "print(sum(map(int, input().split())))", total: 2 });
}

/** Ends a test's submission (as a consumer applying its result would), so later passes see nothing of it. */
async function finish(submission: Submission): Promise<void> {
  await finishNextJob("completed");
  await h.store.submissions.finalize(submission._id, { status: "Success", passed: 2, total: 2, timeMs: 1, memoryKb: 1, results: [], compileOutput: null, failedTest: null, message: null });
}

/**
 * The IE a give-up queued on EvaluationQueue for the results consumer (none runs in this file),
 * removed as the consumer would take it, so later passes see no backlog.
 */
async function takeQueuedResult(submissionId: string): Promise<EvaluationResult> {
  const jobs = await evaluationQueue.getJobs(["wait", "prioritized"]);
  const mine = jobs.filter((job) => job?.name === EVALUATION_JOBS.result && (job.data as { submissionId?: string }).submissionId === submissionId);
  assert.equal(mine.length, 1, "one result queued");
  await mine[0]!.remove();
  return evaluationResultSchema.parse(mine[0]!.data);
}

/** What the results consumer would write for it (so later passes see nothing of this submission). */
async function writeAsConsumer(result: EvaluationResult): Promise<void> {
  const { submissionId, userId: _userId, generation, ...verdict } = result;
  assert.ok((await h.store.submissions.finalize(submissionId, verdict, generation))?.applied);
}

const pastGrace = () => new Promise((resolve) => setTimeout(resolve, GRACE_MS + 50));
/** The period lock is not released on purpose: the next pass must wait for it to expire. */
const nextPeriod = () => new Promise((resolve) => setTimeout(resolve, 250));

/** Takes the next SubmissionQueue job and ends it as the test says (an evaluator that finished, or failed for good). */
async function finishNextJob(how: "completed" | "failed"): Promise<string> {
  const token = randomUUID();
  const job = await eventually(() => submissionWorker.getNextJob(token), "a job to take");
  if (how === "completed") await job.moveToCompleted({ status: "Success" }, token, false);
  else {
    await job.discard();
    await job.moveToFailed(new Error("sandbox kept failing"), token, false);
  }
  return job.id!;
}

describe("submission reconciler", () => {
  test("a Pending row with no job is enqueued once, with jobId = submissionId and the payload create() would build", async () => {
    const r = reconciler();
    const submission = await orphan("ida");
    const young = await r.runOnce();
    assert.equal(young?.redriven, 0, "inside the grace period nothing is touched");

    await pastGrace();
    await nextPeriod();
    const report = await r.runOnce();
    assert.equal(report?.redriven, 1);
    const job = await h.queue.queue.getJob(submission._id);
    assert.ok(job, "job enqueued under the submission id");
    assert.equal(job.name, SUBMISSION_JOB);
    assert.deepEqual(job.data, buildSubmissionJob(h.problem, submission));

    // The job is live now: a later pass leaves it alone, so at most one judging is queued.
    await nextPeriod();
    const again = await r.runOnce();
    assert.equal(again?.redriven, 0);
    assert.ok((again?.live ?? 0) >= 1);
    assert.equal((await h.queue.queue.getJobs(["waiting", "prioritized", "active"])).filter((j) => j.id === submission._id).length, 1);
    await finish(submission);
  });

  test("replicas: of two reconcilers in the same period exactly one acts", async () => {
    const [a, b] = [reconciler(), reconciler()];
    await nextPeriod();
    const reports = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
    assert.equal(reports.filter((report) => report !== null).length, 1);
  });

  test("a Running submission whose job failed for good, with no result on the way, is re-driven, then made IE after the attempts", async () => {
    const r = reconciler({ maxRedrives: 1 });
    const submission = await orphan("jon");
    await h.queue.queue.add(SUBMISSION_JOB, buildSubmissionJob(h.problem, submission), { jobId: submission._id, attempts: 1 });
    await h.store.submissions.markRunning(submission._id, { passed: 0, total: 2 });
    assert.equal(await finishNextJob("failed"), submission._id);
    await pastGrace();
    await nextPeriod();

    const first = await r.runOnce();
    assert.equal(first?.redriven, 1, JSON.stringify(first));
    const redriven = await h.queue.queue.getJob(submission._id);
    assert.ok(redriven && ["waiting", "prioritized"].includes(await redriven.getState()), "the failed job was replaced by a live one");

    // The re-driven job fails too: the attempts are used up, so the submission ends as IE, not Running forever.
    assert.equal(await finishNextJob("failed"), submission._id);
    await pastGrace();
    await nextPeriod();
    const second = await r.runOnce();
    assert.equal(second?.failed, 1, JSON.stringify(second));
    const ie = await takeQueuedResult(submission._id);
    assert.deepEqual([ie.status, ie.passed, ie.total, ie.generation, ie.userId], ["IE", 0, 2, 0, "jon"]);
    assert.match(ie.message ?? "", /did not complete after 2 attempts/);
    assert.equal((await h.store.submissions.findById(submission._id))?.status, "Running", "written by the results consumer, not here");
    await writeAsConsumer(ie);
  });

  test("a finished job whose result still waits in EvaluationQueue is left to the result consumer", async () => {
    const r = reconciler();
    const submission = await orphan("kim");
    await h.queue.queue.add(SUBMISSION_JOB, buildSubmissionJob(h.problem, submission), { jobId: submission._id });
    assert.equal(await finishNextJob("completed"), submission._id);
    // The evaluator queued the result before completing; no consumer is running in this test.
    const pendingResult = await evaluationQueue.add(EVALUATION_JOBS.result, { submissionId: submission._id });
    await pastGrace();
    await nextPeriod();
    const report = await r.runOnce();
    assert.equal(report?.redriven, 0, JSON.stringify(report));
    assert.ok((report?.awaitingResult ?? 0) >= 1);
    assert.equal(await (await h.queue.queue.getJob(submission._id))?.getState(), "completed");

    // The result is gone (lost with its Redis, say): now the submission is re-driven.
    await pendingResult.remove();
    await nextPeriod();
    const later = await r.runOnce();
    assert.equal(later?.redriven, 1, JSON.stringify(later));
    await finish(submission);
  });

  test("a submission whose problem was deleted becomes IE with a clear message", async () => {
    const r = reconciler();
    const doomed = await h.store.problems.create({ ...h.problem, title: "Deleted soon" });
    const submission = await orphan("lou", doomed._id);
    assert.equal(await h.store.problems.delete(doomed._id), true);
    await pastGrace();
    await nextPeriod();
    const report = await r.runOnce();
    assert.equal(report?.failed, 1, JSON.stringify(report));
    const ie = await takeQueuedResult(submission._id);
    assert.equal(ie.status, "IE");
    assert.match(ie.message ?? "", /problem no longer exists/);
    await writeAsConsumer(ie);
  });

  test("on its own timer: an orphan is queued within grace + one period", async () => {
    const periodMs = 300;
    reconciler({ periodMs, autoStart: true });
    const submission = await orphan("max");
    const started = Date.now();
    await eventually(() => h.queue.queue.getJob(submission._id), "the orphan to be enqueued", 10_000);
    const recoveryMs = Date.now() - started;
    console.log(`[reconciler] orphan Pending enqueued ${recoveryMs} ms after commit (grace ${GRACE_MS} ms, period ${periodMs} ms)`);
    assert.ok(recoveryMs < GRACE_MS + 3 * periodMs + 1_000, `recovered in ${recoveryMs} ms`);
    await finish(submission);
  });
});
