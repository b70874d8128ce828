// Job locks: an evaluator that lost its lock mid-judge (Redis restarted without it, renewals
// could not get through) must not publish a result, because the stalled check hands the job to
// another run whose result is the one that counts. Exactly one verdict either way.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createJudge, type Judge } from "@sonocode/judge";
import { silentLogger } from "@sonocode/logger";
import { eventually, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createEvaluatorWorker, WORKER_TIMINGS } from "../src/index.js";
import { SubmissionServiceDouble, submissionJob } from "./helpers.js";

let judge: Judge;

before(async () => {
  judge = await createJudge({ engine: "bwrap", logger: silentLogger() });
});

after(async () => {
  await judge.close();
});

test("the timings re-run a dead evaluator's job well within 10 s and leave a live one seconds of margin", () => {
  const { lockDuration, lockRenewTime, stalledInterval } = WORKER_TIMINGS;
  // Worst case from a kill to the job being back in wait: the lock lapses, then one stalled check.
  assert.ok(lockDuration + stalledInterval <= 6_000);
  // BullMQ renews about every lockRenewTime (it looks every lockRenewTime/2): what a live evaluator may miss.
  assert.ok(lockDuration - 1.5 * lockRenewTime >= 2_500);
});

test("a job whose lock was lost mid-judge is re-run, and only the re-run's verdict is published", async () => {
  const prefix = uniqueName("eval-lock");
  const evaluator = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge, logger: silentLogger() });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  const redis = new Redis(testRedisUrl());
  try {
    const slow = "import time\ntime.sleep(2.5)\na, b = map(int, input().split())\nprint(a + b)\n";
    const job = submissionJob({ source: slow, testCases: [{ input: "2 3\n", output: "5\n", hidden: false }], timeLimitMs: 5_000 });
    const queued = await submissions.enqueue(job, { jobId: job.submissionId });
    await eventually(() => submissions.progress.get(job.submissionId), "the job to start", 20_000);
    // What a Redis restart without the lock key looks like to the evaluator that holds it.
    assert.equal(await redis.del(`${submissions.submissionQueue.toKey(job.submissionId)}:lock`), 1);

    await eventually(() => submissions.results.get(job.submissionId), "the verdict", 30_000);
    await eventually(async () => (await queued.getState()) === "completed", "the re-run to complete", 20_000);
    // Give a (wrong) second result time to arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const results = submissions.results.get(job.submissionId) ?? [];
    assert.deepEqual(results.map((result) => result.status), ["Success"], "one verdict, from the run that held the lock");
    const finished = await submissions.submissionQueue.getJob(job.submissionId);
    assert.equal(finished?.stalledCounter, 1, "the stalled check re-ran it once");
    assert.ok(evaluator.metrics.snapshot().lockRenewalFailures >= 1, "the lost renewal is counted");
  } finally {
    redis.disconnect();
    await submissions.close();
    await evaluator.close();
  }
});

test("a job that loses its evaluator more than maxStalledCount times fails for good and is reported IE once", async () => {
  const prefix = uniqueName("eval-stalls");
  const evaluator = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge, logger: silentLogger() });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  const redis = new Redis(testRedisUrl());
  try {
    const slow = "import time\ntime.sleep(2)\na, b = map(int, input().split())\nprint(a + b)\n";
    const job = submissionJob({ source: slow, testCases: [{ input: "2 3\n", output: "5\n", hidden: false }], timeLimitMs: 5_000 });
    const queued = await submissions.enqueue(job, { jobId: job.submissionId });
    const lockKey = `${submissions.submissionQueue.toKey(job.submissionId)}:lock`;
    // Each run loses its lock as if its evaluator died; a run that is never stalled would succeed.
    for (let stall = 1; stall <= WORKER_TIMINGS.maxStalledCount + 1; stall += 1) {
      await eventually(async () => (await redis.del(lockKey)) === 1, `run ${stall} to hold a lock`, 20_000);
      await eventually(async () => (await submissions.submissionQueue.getJob(job.submissionId))?.stalledCounter === stall, `stall ${stall}`, 20_000);
    }
    await eventually(async () => (await queued.getState()) === "failed", "the job to fail for good", 20_000);
    const results = await submissions.settledResults(job.submissionId, 20_000);
    assert.deepEqual(results.map((result) => [result.status, result.message]), [["IE", "internal error: evaluation failed; please resubmit"]]);
  } finally {
    redis.disconnect();
    await submissions.close();
    await evaluator.close();
  }
});
