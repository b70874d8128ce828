// An evaluator whose sandbox breaks: the jobs it fails are retried, not IE; after a few failures
// in a row it stops taking jobs and /health says why; a healthy evaluator judges them; once the
// sandbox works again a periodic self-test puts it back on its own. And the real thing: an
// evaluator started on a missing runtime rootfs (no mock) starts anyway, out of rotation, and
// joins in once the rootfs is there.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createJudge, SandboxError, type Judge } from "@sonocode/judge";
import type { JudgeRequest, Verdict } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { createBreakableRootfs, eventually, listen, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createDeferredJudge, createEvaluatorService, createEvaluatorWorker, type EvaluatorJudge } from "../src/index.js";
import { SubmissionServiceDouble, submissionJob } from "./helpers.js";

interface HealthBody {
  success: boolean;
  message: string;
  error: { code?: string; details?: { dependencies: string[] } };
  data: { redis: string; sandbox: string; sandboxReason: string | null; outOfRotation: boolean; engine: string };
}

let judge: Judge;

before(async () => {
  judge = await createJudge({ engine: "bwrap", logger: silentLogger() });
});

after(async () => {
  await judge?.close();
});

async function health(url: string): Promise<{ status: number; body: HealthBody }> {
  const response = await fetch(`${url}/health`);
  return { status: response.status, body: (await response.json()) as HealthBody };
}

/**
 * The real judge behind a switch: while `broken`, judging and the self-test reject with the
 * judge's own SandboxError, as a sandbox that broke after start does. Breaking a running bwrap
 * engine on cue is not possible from outside (it keeps its own view of the rootfs).
 */
class SwitchableJudge implements EvaluatorJudge {
  readonly engine = "bwrap";
  broken = false;
  judgeCalls = 0;
  selfTests = 0;
  constructor(private readonly real: Judge) {}
  async judge(request: JudgeRequest): Promise<Verdict> {
    this.judgeCalls += 1;
    if (this.broken) throw new SandboxError("the sandbox failed to start");
    return this.real.judge(request);
  }
  async selfTest(): Promise<void> {
    this.selfTests += 1;
    if (this.broken) throw new SandboxError("bwrap engine: a trivial sandboxed run failed");
    await this.real.selfTest();
  }
}

test("/health runs a cached sandbox self-test: 503 with the reason while the engine is broken, 200 once it works", async () => {
  const switchable = new SwitchableJudge(judge);
  const service = createEvaluatorService({
    redisUrl: testRedisUrl(),
    prefix: uniqueName("eval-selftest"),
    judge: switchable,
    logger: silentLogger(),
    engineHealth: { failureThreshold: 100, selfTestIntervalMs: 300 },
  });
  try {
    const url = await listen(service.httpServer);
    // Eventually: the Redis connection is still being opened right after start.
    const up = await eventually(async () => {
      const probe = await health(url);
      return probe.status === 200 ? probe : null;
    }, "a healthy evaluator", 10_000);
    assert.equal(up.body.data.sandbox, "up");

    switchable.broken = true;
    const down = await eventually(async () => {
      const probe = await health(url);
      return probe.status === 503 ? probe : null;
    }, "the self-test to notice", 10_000);
    assert.equal(down.body.error.code, "DEPENDENCY_UNAVAILABLE");
    assert.deepEqual(down.body.error.details?.dependencies, ["sandbox"]);
    assert.equal(down.body.data.redis, "up");
    assert.equal(down.body.data.sandbox, "down");
    assert.match(down.body.data.sandboxReason ?? "", /self-test failed: bwrap engine: a trivial sandboxed run failed/);
    assert.match(down.body.message, /^sandbox unavailable: /);

    // Cached: a burst of probes within the interval runs no new self-test and agrees.
    const before = switchable.selfTests;
    const burst = await Promise.all(Array.from({ length: 10 }, () => health(url)));
    assert.ok(burst.every((probe) => probe.status === 503));
    assert.ok(switchable.selfTests - before <= 1, `${switchable.selfTests - before} self-tests for 10 probes`);

    switchable.broken = false;
    await eventually(async () => (await health(url)).status === 200, "the self-test to pass again", 10_000);
  } finally {
    await service.close();
  }
});

test("an evaluator whose sandbox fails jobs leaves rotation; a healthy one judges them; it comes back by itself", async () => {
  const prefix = uniqueName("eval-rotation");
  const switchable = new SwitchableJudge(judge);
  const broken = createEvaluatorService({
    redisUrl: testRedisUrl(),
    prefix,
    judge: switchable,
    logger: silentLogger(),
    sandboxRetry: { attempts: 5, backoffMs: 100 },
    engineHealth: { failureThreshold: 2, selfTestIntervalMs: 300 },
  });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  let healthy: ReturnType<typeof createEvaluatorWorker> | undefined;
  try {
    const url = await listen(broken.httpServer);
    await eventually(async () => (await health(url)).status === 200, "a healthy evaluator", 10_000);
    switchable.broken = true;
    const jobs = [submissionJob({ userId: "u1" }), submissionJob({ userId: "u2" })];
    for (const job of jobs) await submissions.enqueue(job, { jobId: job.submissionId, attempts: 1 });

    // Two sandbox failures in a row: out of rotation; the jobs wait for someone else.
    await eventually(() => broken.metrics.snapshot().outOfRotation, "the broken evaluator to leave rotation", 20_000);
    const callsWhenOut = switchable.judgeCalls;
    assert.equal(callsWhenOut, 2, "it stopped after the threshold");
    const out = await health(url);
    assert.equal(out.status, 503);
    assert.equal(out.body.data.outOfRotation, true);
    assert.match(out.body.data.sandboxReason ?? "", /2 sandbox failures in a row|self-test failed/);
    assert.ok(broken.worker.isPaused(), "the worker takes no jobs");
    assert.equal(submissions.results.size, 0, "nothing was blamed on the submissions");

    healthy = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge, logger: silentLogger() });
    for (const job of jobs) {
      const results = await submissions.settledResults(job.submissionId);
      assert.deepEqual(results.map((result) => result.status), ["Success"]);
    }
    assert.equal(switchable.judgeCalls, callsWhenOut, "out of rotation, it fetched nothing more");
    assert.equal(healthy.metrics.snapshot().results.Success, 2, "the healthy evaluator judged both");

    // Repaired: the periodic self-test puts it back without a restart; it judges again.
    switchable.broken = false;
    await eventually(async () => (await health(url)).status === 200, "the evaluator to come back", 10_000);
    assert.equal(broken.worker.isPaused(), false);
    await healthy.close();
    const later = submissionJob({ userId: "u3" });
    await submissions.enqueue(later, { jobId: later.submissionId, attempts: 1 });
    const results = await submissions.settledResults(later.submissionId);
    assert.deepEqual(results.map((result) => result.status), ["Success"]);
    assert.equal(broken.metrics.snapshot().results.Success, 1);
  } finally {
    await healthy?.close();
    await submissions.close();
    await broken.close();
  }
});

test("started on a missing runtime rootfs: up but out of rotation, saying why; in rotation once the rootfs is there", async () => {
  const rootfs = await createBreakableRootfs({ mounted: false });
  const prefix = uniqueName("eval-norootfs");
  const deferred = createDeferredJudge(() => createJudge({ engine: "bwrap", rootfs: rootfs.path, logger: silentLogger() }), "bwrap");
  const service = createEvaluatorService({
    redisUrl: testRedisUrl(),
    prefix,
    judge: deferred,
    logger: silentLogger(),
    engineHealth: { selfTestIntervalMs: 300 },
  });
  const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
  try {
    const url = await listen(service.httpServer);
    const job = submissionJob({ userId: "late" });
    await submissions.enqueue(job, { jobId: job.submissionId, attempts: 1 });
    const down = await eventually(async () => {
      const probe = await health(url);
      return probe.status === 503 && probe.body.data.outOfRotation ? probe : null;
    }, "the evaluator to report its missing rootfs", 10_000);
    assert.match(down.body.data.sandboxReason ?? "", /rootfs is missing/);
    assert.doesNotMatch(down.body.message, /sonocode-rootfs-/, "no host path in the reason");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(submissions.results.size, 0, "the job waits: nothing judged, nothing blamed");
    assert.equal(await (await submissions.submissionQueue.getJob(job.submissionId))?.getState(), "waiting");

    await rootfs.repair();
    const results = await submissions.settledResults(job.submissionId, 60_000);
    assert.deepEqual(results.map((result) => result.status), ["Success"]);
    assert.equal((await health(url)).status, 200);
  } finally {
    await submissions.close();
    await service.close();
    await deferred.close();
    await rootfs.dispose();
  }
});
