// Subtasks end to end through the evaluator: the problem's groups and each test's group are
// stored in problem-service, travel with the test set (never in the job), survive the on-disk
// test-set cache, and the real bwrap judge scores them behind the real queues.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Problem } from "@sonocode/contracts";
import { startJudgingBench, type JudgingBench } from "./helpers.js";

const SECRET = "evaluator-subtasks-secret-0123456789abcdef0123";

let bench: JudgingBench;
let problem: Problem;

before(async () => {
  bench = await startJudgingBench({
    secret: SECRET,
    name: "evalsub",
    maxConcurrency: 1,
    problem: {
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
    },
  });
  problem = bench.problem!;
});

after(() => bench?.close());

/** The job as submission-service builds it: the tests (and so the groups) by reference only. */
async function jobFor(source: string) {
  const { view } = await bench.judgingView(problem._id);
  return bench.jobFor(view, { source, checker: { type: "exact" }, runAllTests: false });
}

test("groups reach the judge with the test set: a failed group skips its dependent, the others still score", async () => {
  // Wrong only for n < 5 and n != 1 (the small group); the sample passes.
  const job = await jobFor("n = int(input())\nprint(2 * n + (1 if 1 < n < 5 else 0))");
  const result = await bench.judged(job);
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
  const accepted = await bench.judged(right);
  assert.equal(accepted.status, "Success", accepted.message ?? "");
  assert.equal(accepted.score, 100);
  assert.deepEqual(accepted.groups?.map((g) => g.status), ["Success", "Success", "Success"]);
});
