// Failure paths: a judge that throws (infrastructure failure, never the user's fault),
// graceful close while a job runs, and a Redis outage seen by /health.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createJudge, type Judge } from "@sonocode/judge";
import type { JudgeRequest, Verdict } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { eventually, listen, startPrivateRedis, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createEvaluatorService, createEvaluatorWorker, type EvaluatorJudge } from "../src/index.js";
import { SubmissionServiceDouble, submissionJob } from "./helpers.js";

let judge: Judge;

before(async () => {
  judge = await createJudge({ engine: "bwrap", logger: silentLogger() });
});

after(async () => {
  await judge.close();
});

/**
 * The one double in these tests: a sandbox that breaks on demand (the real judge cannot be made
 * to throw on cue). It counts its calls so we can see the bounded retry.
 */
class BrokenJudge implements EvaluatorJudge {
  readonly engine = "bwrap";
  calls = 0;
  async judge(_request: JudgeRequest): Promise<Verdict> {
    this.calls += 1;
    throw new Error("sandbox exploded at /var/lib/secret/path");
  }
}

test("a judge that keeps throwing: bounded retries, then one IE result without internals", async () => {
  const prefix = uniqueName("eval-broken");
  const broken = new BrokenJudge();
  const evaluator = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge: broken, logger: silentLogger() });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  try {
    const job = submissionJob({ userId: "carol" });
    const queued = await submissions.enqueue(job, { jobId: job.submissionId, attempts: 3 });
    const results = await eventually(() => submissions.results.get(job.submissionId), "the IE result", 20_000);
    await eventually(async () => (await queued.getState()) === "completed", "the job to complete", 10_000);

    assert.equal(broken.calls, 3, "the producer's attempts are honoured, then it stops");
    assert.equal(results.length, 1);
    const result = results[0]!;
    assert.equal(result.status, "IE");
    assert.equal(result.userId, "carol");
    assert.equal(result.total, 3);
    assert.doesNotMatch(result.message ?? "", /secret|\/var\//, "no host internals in the user-facing message");
    assert.deepEqual(evaluator.metrics.snapshot().results.IE, 1);
  } finally {
    await submissions.close();
    await evaluator.close();
  }
});

test("a single-attempt job whose judge throws is IE immediately", async () => {
  const prefix = uniqueName("eval-broken1");
  const broken = new BrokenJudge();
  const evaluator = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge: broken, logger: silentLogger() });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  try {
    const job = submissionJob();
    await submissions.enqueue(job, { jobId: job.submissionId, attempts: 1 });
    const results = await eventually(() => submissions.results.get(job.submissionId), "the IE result", 20_000);
    assert.equal(results[0]?.status, "IE");
    assert.equal(broken.calls, 1);
  } finally {
    await submissions.close();
    await evaluator.close();
  }
});

test("close() waits for the running job, whose result is still published", async () => {
  const prefix = uniqueName("eval-close");
  const evaluator = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge, logger: silentLogger() });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  try {
    const slow = "import time\ntime.sleep(1.0)\na, b = map(int, input().split())\nprint(a + b)\n";
    const job = submissionJob({ source: slow, testCases: [{ input: "2 3\n", output: "5\n", hidden: false }], timeLimitMs: 5_000 });
    const queued = await submissions.enqueue(job, { jobId: job.submissionId });
    await eventually(() => submissions.progress.get(job.submissionId), "the job to start", 20_000);
    assert.equal(await queued.getState(), "active");
    await evaluator.close();
    // close() resolved only after the job finished: it is already completed, its result queued.
    assert.equal(await queued.getState(), "completed");
    const results = await eventually(() => submissions.results.get(job.submissionId), "the result after close", 10_000);
    assert.equal(results[0]?.status, "Success");
    assert.equal(evaluator.metrics.snapshot().inFlight, 0);
  } finally {
    await submissions.close();
    await evaluator.close();
  }
});

test("GET /health is 503 when Redis goes away; /ping still answers", async () => {
  const redis = await startPrivateRedis();
  const service = createEvaluatorService({ redisUrl: redis.url, prefix: uniqueName("eval-down"), judge, logger: silentLogger() });
  try {
    const url = await listen(service.httpServer);
    await eventually(async () => (await fetch(`${url}/health`)).status === 200, "a healthy evaluator", 10_000);
    await redis.kill();
    const started = Date.now();
    const response = await fetch(`${url}/health`);
    assert.equal(response.status, 503);
    assert.ok(Date.now() - started < 3_000, "the probe answers fast");
    const body = (await response.json()) as { success: boolean; error: { code: string }; data: { redis: string; engine: string } };
    assert.equal(body.success, false);
    assert.equal(body.error.code, "DEPENDENCY_UNAVAILABLE");
    assert.equal(body.data.redis, "down");
    assert.equal(body.data.engine, judge.engine);
    assert.equal((await fetch(`${url}/ping`)).status, 200);
  } finally {
    await service.close();
    await redis.kill();
  }
});
