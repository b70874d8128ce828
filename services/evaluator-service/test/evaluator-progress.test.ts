// Progress coalescing through the real queues and the real judge (bwrap): a submission with many
// fast tests publishes a few progress jobs per second, not one per test, and its verdict comes
// last and complete.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { EVALUATION_JOBS } from "@sonocode/contracts";
import { createJudge, type Judge } from "@sonocode/judge";
import { silentLogger } from "@sonocode/logger";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createEvaluatorService, DEFAULT_PROGRESS_INTERVAL_MS, type EvaluatorService } from "../src/index.js";
import { SubmissionServiceDouble, submissionJob } from "./helpers.js";

const prefix = uniqueName("eval-progress");
let judge: Judge;
let service: EvaluatorService;
let submissions: SubmissionServiceDouble;

const C_AB = '#include <stdio.h>\nint main(void) { long long a, b; if (scanf("%lld %lld", &a, &b) != 2) return 1; printf("%lld\\n", a + b); return 0; }\n';
const TESTS = 150;

before(async () => {
  judge = await createJudge({ engine: "bwrap", logger: silentLogger() });
  service = createEvaluatorService({ redisUrl: testRedisUrl(), prefix, judge, logger: silentLogger() });
  submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
});

after(async () => {
  await submissions.close();
  await service.close();
  await judge.close();
});

test(`${TESTS} fast tests: a few progress jobs per second on the real queue, none after the verdict, the verdict complete`, async () => {
  const testCases = Array.from({ length: TESTS }, (_, i) => ({ input: `${i} ${i + 1}\n`, output: `${2 * i + 1}\n`, hidden: i >= 2 }));
  const job = submissionJob({ language: "C", source: C_AB, testCases });
  const started = performance.now();
  await submissions.enqueue(job, { jobId: job.submissionId });
  const [result] = await submissions.settledResults(job.submissionId, 120_000, 500);
  const elapsedMs = performance.now() - started;

  assert.equal(result!.status, "Success");
  assert.equal(result!.passed, TESTS);
  assert.equal(result!.results.length, TESTS);

  const mine = submissions.arrivals.filter((arrival) => arrival.submissionId === job.submissionId);
  const progress = mine.filter((arrival) => arrival.name === EVALUATION_JOBS.progress);
  // The announcement and the first test at once, then at most one per interval while judging.
  const bound = 2 + Math.ceil(elapsedMs / DEFAULT_PROGRESS_INTERVAL_MS);
  assert.ok(progress.length <= bound, `${progress.length} progress jobs in ${Math.round(elapsedMs)} ms (bound ${bound})`);
  assert.ok(progress.length < TESTS / 3, `${progress.length} progress jobs for ${TESTS} tests: coalesced`);
  assert.deepEqual(progress[0]?.passed, 0, "Running is announced first");
  for (let i = 1; i < progress.length; i += 1) assert.ok(progress[i]!.passed > progress[i - 1]!.passed, "each progress job carries a newer count");
  assert.equal(mine.at(-1)?.name, EVALUATION_JOBS.result, "the verdict is the last job of the submission on the queue");
  assert.equal(mine.filter((arrival) => arrival.name === EVALUATION_JOBS.result).length, 1);
  console.log(`[progress] ${TESTS} tests judged in ${Math.round(elapsedMs)} ms: ${progress.length} progress jobs (was ${TESTS + 1} before coalescing)`);
});
