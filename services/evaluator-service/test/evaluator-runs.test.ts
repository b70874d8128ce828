// Run jobs (POST /api/v1/runs) through a real evaluator worker: real Redis, the real bwrap judge,
// the real test-set cache. Only visible tests are run; a job past its deadline is skipped; a run
// whose sandbox keeps failing ends as one IE result instead of staying Pending.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Queue, Worker } from "bullmq";
import { QUEUES, RUN_JOB, RUN_RESULT_JOB, runJobId, runResultSchema, type RunJob, type RunJudgeRequest, type RunResult, type RunVerdict, type TestSet } from "@sonocode/contracts";
import { testSetContentHash } from "@sonocode/contracts/test-set-hash";
import { createJudge, SandboxError, type Judge } from "@sonocode/judge";
import { silentLogger } from "@sonocode/logger";
import { eventually, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createEvaluatorWorker, createTestSetCache, createTestSetProvider, type EvaluatorJudge } from "../src/index.js";
import { RUN_IE_MESSAGES } from "../src/processors/run.processor.js";
import { AB_TESTS, PYTHON_AB_WRONG, objectId } from "./helpers.js";

let judge: Judge;
let cacheDir: string;
const problemId = objectId();
const testSet: TestSet = { problemId, hash: "", tests: AB_TESTS };
testSet.hash = testSetContentHash(testSet);

/** The real judge, with run() able to fail like a broken sandbox for the first `failures` calls. */
class ScriptedJudge implements EvaluatorJudge {
  readonly engine = "bwrap";
  runCalls = 0;
  constructor(private readonly failures: number) {}
  judge: Judge["judge"] = (request, options) => judge.judge(request, options);
  selfTest = () => judge.selfTest();
  run = async (request: RunJudgeRequest, options?: { signal?: AbortSignal }): Promise<RunVerdict> => {
    this.runCalls++;
    if (this.runCalls <= this.failures) throw new SandboxError("bwrap engine: a trivial sandboxed run failed");
    return judge.run(request, options);
  };
}

function runJob(overrides: Partial<RunJob> = {}): RunJob {
  return {
    runId: objectId(),
    userId: "user-1",
    problemId,
    language: "PYTHON",
    source: PYTHON_AB_WRONG,
    testSet: { problemId, hash: testSet.hash, count: testSet.tests.length },
    timeLimitMs: 2_000,
    memoryLimitMb: 256,
    checker: { type: "exact" },
    deadline: Date.now() + 60_000,
    ...overrides,
  };
}

async function withEvaluator(scripted: ScriptedJudge, body: (queue: Queue, results: RunResult[]) => Promise<void>): Promise<void> {
  const prefix = uniqueName("eval-runs");
  const testSets = createTestSetProvider({ cache: createTestSetCache({ dir: cacheDir, maxBytes: 1 << 20 }), client: { fetch: async () => ({ kind: "found", testSet }) } });
  const evaluator = createEvaluatorWorker({ redisUrl: testRedisUrl(), prefix, judge: scripted, logger: silentLogger(), testSets, engineHealth: { failureThreshold: 100 } });
  const queue = new Queue(QUEUES.submission, { connection: { url: testRedisUrl() }, prefix });
  const results: RunResult[] = [];
  const consumer = new Worker(
    QUEUES.evaluation,
    async (job) => {
      assert.equal(job.name, RUN_RESULT_JOB);
      results.push(runResultSchema.parse(job.data));
    },
    { connection: { url: testRedisUrl() }, prefix },
  );
  try {
    await body(queue, results);
  } finally {
    await consumer.close();
    await evaluator.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

before(async () => {
  judge = await createJudge({ engine: "bwrap", logger: silentLogger(), maxConcurrency: 1 });
  cacheDir = await mkdtemp(join(tmpdir(), "sonocode-eval-runs-"));
});

after(async () => {
  await judge.close();
  await rm(cacheDir, { recursive: true, force: true });
});

test("a run job runs the visible tests only and publishes one run-result with their outputs", async () => {
  await withEvaluator(new ScriptedJudge(0), async (queue, results) => {
    const job = runJob();
    await queue.add(RUN_JOB, job, { jobId: runJobId(job.runId) });
    await eventually(() => results.length === 1, "the run result", 60_000);
    const result = results[0]!;
    assert.equal(result.runId, job.runId);
    assert.equal(result.status, "WA");
    assert.deepEqual(result.results.map((r) => [r.index, r.input, r.output, r.expected, r.status]), [
      [0, "1 2\n", "-1\n", "3\n", "WA"],
      [1, "5 7\n", "-2\n", "12\n", "WA"],
    ]);
    assert.ok(!JSON.stringify(result).includes("100 -1"), "the hidden test is never run or shown");
  });
});

test("a run job past its deadline is skipped: nothing is run or published (the run is already IE)", async () => {
  const scripted = new ScriptedJudge(0);
  await withEvaluator(scripted, async (queue, results) => {
    const job = runJob({ deadline: Date.now() - 1 });
    const queued = await queue.add(RUN_JOB, job, { jobId: runJobId(job.runId) });
    await eventually(async () => (await queued.getState()) === "completed", "the job to complete", 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(scripted.runCalls, 0);
    assert.equal(results.length, 0);
  });
});

test("a run whose sandbox fails on every attempt ends as one IE run-result, never stuck", async () => {
  const scripted = new ScriptedJudge(100);
  await withEvaluator(scripted, async (queue, results) => {
    const job = runJob({ userId: "dora" });
    // The producer's options (RunsService): two attempts.
    await queue.add(RUN_JOB, job, { jobId: runJobId(job.runId), attempts: 2, backoff: { type: "fixed", delay: 100 } });
    await eventually(() => results.length === 1, "the IE result", 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(scripted.runCalls, 2);
    assert.equal(results.length, 1);
    assert.deepEqual({ runId: results[0]!.runId, userId: results[0]!.userId, status: results[0]!.status, message: results[0]!.message }, { runId: job.runId, userId: "dora", status: "IE", message: RUN_IE_MESSAGES.failed });
  });
});
