// Subtasks end to end through the evaluator: the problem's groups and each test's group are
// stored in problem-service, travel with the test set (never in the job), survive the on-disk
// test-set cache, and the real bwrap judge scores them behind the real queues.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { signServiceToken } from "@sonocode/auth";
import { judgingProblemSchema, type Problem } from "@sonocode/contracts";
import { createJudge, type Judge } from "@sonocode/judge";
import { silentLogger } from "@sonocode/logger";
import { buildProblemApp } from "@sonocode/problem-service";
import { createStore, type Store } from "@sonocode/store";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createEvaluatorService, createTestSetCache, createTestSetClient, createTestSetProvider, type EvaluatorService } from "../src/index.js";
import { SubmissionServiceDouble, submissionJob } from "./helpers.js";

const SECRET = "evaluator-subtasks-secret-0123456789abcdef0123";

let store: Store;
let server: Server;
let baseUrl: string;
let judge: Judge;
let service: EvaluatorService;
let submissions: SubmissionServiceDouble;
let cacheDir: string;
let problem: Problem;

before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
  server = buildProblemApp({ problems: store.problems, jwtSecret: SECRET, logger: silentLogger() }).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  problem = await store.problems.create({
    title: "Double it",
    description: "Print 2n.",
    difficulty: "easy",
    codeStubs: [],
    testCases: [
      { input: "1\n", output: "2\n", hidden: false },
      { input: "1000\n", output: "2000\n", hidden: true, group: "large" },
      { input: "2\n", output: "4\n", hidden: true, group: "small" },
      { input: "7\n", output: "14\n", hidden: true, group: "other" },
    ],
    groups: [
      { name: "small", points: 30 },
      { name: "large", points: 50, dependencies: ["small"] },
      { name: "other", points: 20 },
    ],
  });
  cacheDir = await mkdtemp(join(tmpdir(), "sonocode-eval-subtasks-"));
  judge = await createJudge({ engine: "bwrap", logger: silentLogger(), maxConcurrency: 1 });
  const prefix = uniqueName("evalsub");
  const testSets = createTestSetProvider({ cache: createTestSetCache({ dir: cacheDir, maxBytes: 1 << 20 }), client: createTestSetClient({ baseUrl, jwtSecret: SECRET }) });
  service = createEvaluatorService({ redisUrl: testRedisUrl(), prefix, judge, logger: silentLogger(), testSets });
  submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
});

after(async () => {
  await submissions?.close();
  await service?.close();
  await judge?.close();
  server?.close();
  await store?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

/** The job as submission-service builds it: the tests (and so the groups) by reference only. */
async function jobFor(source: string) {
  const response = await fetch(`${baseUrl}/internal/v1/problems/${problem._id}`, { headers: { authorization: `Bearer ${await signServiceToken("submission-service", SECRET)}` } });
  const view = judgingProblemSchema.parse(((await response.json()) as { data: unknown }).data);
  const { testCases: _inline, ...job } = submissionJob({ problemId: problem._id, source, checker: { type: "exact" }, runAllTests: false });
  return { ...job, testSet: { problemId: problem._id, hash: view.testSet.hash, count: view.testSet.count } };
}

test("groups reach the judge with the test set: a failed group skips its dependent, the others still score", async () => {
  // Wrong only for n < 5 and n != 1 (the small group); the sample passes.
  const job = await jobFor("n = int(input())\nprint(2 * n + (1 if 1 < n < 5 else 0))");
  await submissions.enqueue(job, { jobId: job.submissionId });
  const result = (await submissions.settledResults(job.submissionId, 60_000, 200))[0]!;
  assert.equal(result.status, "WA", result.message ?? "");
  assert.equal(result.score, 20);
  assert.deepEqual(result.groups, [
    { name: "small", points: 30, earned: 0, status: "WA" },
    { name: "large", points: 50, earned: 0, status: "Skipped" },
    { name: "other", points: 20, earned: 20, status: "Success" },
  ]);
  assert.deepEqual(result.results.map((r) => [r.index, r.status]), [[0, "Success"], [2, "WA"], [3, "Success"]], "test 1 (large) never ran");

  // The second job reads the same set from the cache: the groups were kept on disk.
  const right = await jobFor("print(2 * int(input()))");
  await submissions.enqueue(right, { jobId: right.submissionId });
  const accepted = (await submissions.settledResults(right.submissionId, 60_000, 200))[0]!;
  assert.equal(accepted.status, "Success", accepted.message ?? "");
  assert.equal(accepted.score, 100);
  assert.deepEqual(accepted.groups?.map((g) => g.status), ["Success", "Success", "Success"]);
});
