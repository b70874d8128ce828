// End to end through the real queues and the real judge (bwrap engine): a SubmissionQueue
// job goes in as the submission-service would enqueue it; progress then the verdict come out
// on EvaluationQueue.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createJudge, type Judge } from "@sonocode/judge";
import { silentLogger } from "@sonocode/logger";
import { eventually, listen, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createEvaluatorService, type EvaluatorService } from "../src/index.js";
import { CPP_BROKEN, PYTHON_AB_WRONG, SubmissionServiceDouble, objectId, submissionJob } from "./helpers.js";

const prefix = uniqueName("eval");
let judge: Judge;
let service: EvaluatorService;
let url: string;
let submissions: SubmissionServiceDouble;

before(async () => {
  judge = await createJudge({ engine: "bwrap", logger: silentLogger() });
  service = createEvaluatorService({ redisUrl: testRedisUrl(), prefix, judge, logger: silentLogger() });
  url = await listen(service.httpServer);
  submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
});

after(async () => {
  await submissions.close();
  await service.close();
  await judge.close();
});

async function resultOf(submissionId: string) {
  const results = await submissions.settledResults(submissionId, 60_000, 200);
  assert.equal(results.length, 1, "exactly one result per submission");
  return results[0]!;
}

test("a right Python A+B is Success, after Running progress events", async () => {
  const job = submissionJob({ userId: "alice" });
  await submissions.enqueue(job, { jobId: job.submissionId });
  const result = await resultOf(job.submissionId);

  assert.equal(result.status, "Success");
  assert.equal(result.userId, "alice");
  assert.equal(result.passed, 3);
  assert.equal(result.total, 3);
  assert.equal(result.results.length, 3);
  assert.equal(result.failedTest, null);

  const progress = submissions.progress.get(job.submissionId) ?? [];
  assert.ok(progress.length >= 1, "at least the start event");
  assert.deepEqual(progress[0], { submissionId: job.submissionId, userId: "alice", status: "Running", passed: 0, total: 3 });
  // Monotonic and within bounds: a client's progress bar never goes backwards.
  for (let i = 1; i < progress.length; i += 1) assert.ok(progress[i]!.passed >= progress[i - 1]!.passed);
  assert.ok(progress.every((event) => event.total === 3 && event.passed <= 3));
});

test("a wrong Python A+B is WA", async () => {
  const job = submissionJob({ source: PYTHON_AB_WRONG });
  await submissions.enqueue(job, { jobId: job.submissionId });
  const result = await resultOf(job.submissionId);
  assert.equal(result.status, "WA");
  assert.equal(result.passed, 0);
  assert.equal(result.total, 3);
  // The first test is visible, so the user sees it.
  assert.equal(result.failedTest?.index, 0);
});

test("a broken C++ program is CE, with compiler output and no tests run", async () => {
  const job = submissionJob({ language: "CPP", source: CPP_BROKEN });
  await submissions.enqueue(job, { jobId: job.submissionId });
  const result = await resultOf(job.submissionId);
  assert.equal(result.status, "CE");
  assert.equal(result.passed, 0);
  assert.ok(result.compileOutput && result.compileOutput.length > 0);
});

test("a malformed payload that still has ids gets an IE result and fails without retry", async () => {
  const submissionId = objectId();
  const malformed = { submissionId, userId: "bob", language: "COBOL", source: "x", testCases: [] };
  const queued = await submissions.enqueue(malformed, { jobId: submissionId, attempts: 3 });
  const result = await resultOf(submissionId);
  assert.equal(result.status, "IE");
  assert.equal(result.userId, "bob");
  assert.match(result.message ?? "", /internal error/);

  await eventually(async () => (await queued.getState()) === "failed", "the job to be failed", 10_000);
  const failed = await submissions.submissionQueue.getJob(submissionId);
  assert.equal(failed?.attemptsMade, 1, "UnrecoverableError: no retries");
  assert.equal(submissions.progress.get(submissionId), undefined, "never announced as Running");
});

test("a payload without usable ids just fails: nobody to notify", async () => {
  const queued = await submissions.enqueue({ hello: "world" }, { jobId: "no-ids-1" });
  await eventually(async () => (await queued.getState()) === "failed", "the job to be failed", 10_000);
  assert.equal([...submissions.results.values()].flat().filter((r) => r.userId === "").length, 0);
});

test("GET /ping and /health report the engine and Redis", async () => {
  const ping = await fetch(`${url}/ping`);
  assert.equal(ping.status, 200);
  assert.deepEqual(await ping.json(), { success: true, message: "pong", error: {}, data: {} });

  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  const body = (await health.json()) as { success: boolean; data: { redis: string; sandbox: string; outOfRotation: boolean; engine: string; concurrency: number } };
  assert.equal(body.success, true);
  assert.equal(body.data.redis, "up");
  assert.equal(body.data.sandbox, "up");
  assert.equal(body.data.outOfRotation, false);
  assert.equal(body.data.engine, "bwrap");
  assert.equal(body.data.concurrency, 1);
});

test("GET /metrics counts what was judged", async () => {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await response.text();
  assert.match(text, /^sonocode_evaluator_jobs_total\{status="Success"\} 1$/m);
  assert.match(text, /^sonocode_evaluator_jobs_total\{status="WA"\} 1$/m);
  assert.match(text, /^sonocode_evaluator_jobs_total\{status="CE"\} 1$/m);
  assert.match(text, /^sonocode_evaluator_jobs_total\{status="IE"\} 1$/m);
  assert.match(text, /^sonocode_evaluator_judge_duration_seconds_count 3$/m);
  assert.match(text, /^sonocode_evaluator_jobs_in_flight 0$/m);
});
