// Failure paths: a sandbox that breaks (retried on the evaluator's own budget, IE only at the
// end), a judge that throws for another reason (the producer's attempts), graceful close while
// a job runs, and a Redis outage seen by /health.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createJudge, SandboxError, type Judge } from "@sonocode/judge";
import type { JudgeRequest, Verdict } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { eventually, listen, startPrivateRedis, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createEvaluatorService, createEvaluatorWorker, IE_MESSAGES, type EvaluatorJudge } from "../src/index.js";
import { SubmissionServiceDouble, submissionJob } from "./helpers.js";

let judge: Judge;

before(async () => {
  judge = await createJudge({ engine: "bwrap", logger: silentLogger() });
});

after(async () => {
  await judge.close();
});

type Failure = "sandbox" | "other";

/**
 * The real judge behind a script of failures: the first calls fail as scripted (a SandboxError,
 * the judge's own type, or any other error), then it judges for real. Breaking the sandbox on
 * cue for one call is what a real engine cannot do; the real break is in
 * evaluator-engine-health.test.ts and apps/platform/test/faults.
 */
class ScriptedJudge implements EvaluatorJudge {
  readonly engine = "bwrap";
  readonly calls: number[] = [];
  constructor(
    private readonly script: Failure[],
    private readonly real: Judge,
  ) {}
  async judge(request: JudgeRequest): Promise<Verdict> {
    this.calls.push(Date.now());
    const failure = this.script[this.calls.length - 1];
    if (failure === "sandbox") throw new SandboxError("bwrap engine: a trivial sandboxed run failed");
    if (failure === "other") throw new Error("judge exploded at /var/lib/secret/path");
    return this.real.judge(request);
  }
  selfTest(): Promise<void> {
    return this.real.selfTest();
  }
}

const always = (failure: Failure, times = 50): Failure[] => Array.from({ length: times }, () => failure);

test("a sandbox that keeps failing: retried with back-off on the evaluator's budget, then one IE that blames nobody", async () => {
  const prefix = uniqueName("eval-sandbox");
  const broken = new ScriptedJudge(always("sandbox"), judge);
  const evaluator = createEvaluatorWorker({
    redisUrl: testRedisUrl(),
    prefix,
    judge: broken,
    logger: silentLogger(),
    sandboxRetry: { attempts: 4, backoffMs: 100 },
    // Stay in rotation: this test is about one job's budget.
    engineHealth: { failureThreshold: 100 },
  });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  try {
    const job = submissionJob({ userId: "carol" });
    // One producer attempt: the sandbox retries must not spend it.
    const queued = await submissions.enqueue(job, { jobId: job.submissionId, attempts: 1 });
    const results = await submissions.settledResults(job.submissionId, 20_000);
    await eventually(async () => (await queued.getState()) === "failed", "the job to fail for good", 10_000);

    assert.equal(broken.calls.length, 4, "EVALUATOR_SANDBOX_ATTEMPTS tries, then it stops");
    const gaps = broken.calls.slice(1).map((at, i) => at - broken.calls[i]!);
    // Exponential back-off: 100, 200, 400 ms (the poll for delayed jobs adds a little).
    gaps.forEach((gap, i) => assert.ok(gap >= 100 * 2 ** i - 20, `gap ${i} is ${gap} ms`));
    assert.equal(results.length, 1);
    const result = results[0]!;
    assert.equal(result.status, "IE");
    assert.equal(result.userId, "carol");
    assert.equal(result.total, 3);
    assert.equal(result.message, IE_MESSAGES.sandboxFailed);
    assert.doesNotMatch(result.message ?? "", /\/var\//, "no host internals in the user-facing message");
    assert.equal(evaluator.metrics.snapshot().results.IE, 1);
    const counter = new Redis(testRedisUrl());
    try {
      assert.equal(await counter.exists(`${prefix}:evaluator:sandbox-failures:${job.submissionId}`), 0, "the failure counter is removed");
    } finally {
      counter.disconnect();
    }
  } finally {
    await submissions.close();
    await evaluator.close();
  }
});

test("a sandbox failure, then a working sandbox: the real verdict, once, and no IE", async () => {
  const prefix = uniqueName("eval-flaky");
  const flaky = new ScriptedJudge(["sandbox", "sandbox"], judge);
  const evaluator = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge: flaky, logger: silentLogger(), sandboxRetry: { backoffMs: 50 } });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  try {
    const job = submissionJob();
    await submissions.enqueue(job, { jobId: job.submissionId, attempts: 1 });
    const results = await submissions.settledResults(job.submissionId);
    assert.equal(flaky.calls.length, 3);
    assert.deepEqual(results.map((result) => result.status), ["Success"]);
    assert.equal(evaluator.metrics.snapshot().results.IE, 0);
    const counter = new Redis(testRedisUrl());
    try {
      assert.equal(await counter.exists(`${prefix}:evaluator:sandbox-failures:${job.submissionId}`), 0, "the counter of a judged job is removed");
    } finally {
      counter.disconnect();
    }
  } finally {
    await submissions.close();
    await evaluator.close();
  }
});

test("a judge error that is not the sandbox's uses the producer's attempts, then IE", async () => {
  const prefix = uniqueName("eval-other");
  const broken = new ScriptedJudge(always("other"), judge);
  const evaluator = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge: broken, logger: silentLogger() });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  try {
    const job = submissionJob();
    await submissions.enqueue(job, { jobId: job.submissionId, attempts: 2 });
    const results = await submissions.settledResults(job.submissionId, 20_000);
    assert.equal(broken.calls.length, 2);
    assert.equal(results.length, 1);
    assert.equal(results[0]?.status, "IE");
    assert.equal(results[0]?.message, IE_MESSAGES.evaluationFailed);
    assert.doesNotMatch(results[0]?.message ?? "", /secret|\/var\//);
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
    const body = (await response.json()) as { success: boolean; error: { code: string; details: { dependencies: string[] } }; data: { redis: string; sandbox: string; engine: string } };
    assert.equal(body.success, false);
    assert.equal(body.error.code, "DEPENDENCY_UNAVAILABLE");
    assert.deepEqual(body.error.details.dependencies, ["redis"]);
    assert.equal(body.data.redis, "down");
    assert.equal(body.data.sandbox, "up", "the sandbox itself is fine");
    assert.equal(body.data.engine, judge.engine);
    assert.equal((await fetch(`${url}/ping`)).status, 200);
  } finally {
    await service.close();
    await redis.dispose();
  }
});
