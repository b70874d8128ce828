// A problem's custom checker end to end: stored in problem-service, left out of the job (which
// names it by type only, as submission-service builds it from the judging view), fetched with the
// test set, verified against the set's hash, and run by the real bwrap judge behind the real queues.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Problem, TestSet } from "@sonocode/contracts";
import { createTestSetCache, createTestSetProvider } from "../src/index.js";
import { startJudgingBench, type JudgingBench } from "./helpers.js";

const SECRET = "evaluator-custom-checker-secret-0123456789abcdef";
// Accepts any order of the answer's words; says what it wanted otherwise.
const VALIDATOR = `import sys
answer = sorted(open(sys.argv[2]).read().split())
output = sorted(sys.stdin.read().split())
if output == answer:
    sys.exit(42)
open(sys.argv[3] + "judgemessage.txt", "w").write("wanted the words " + " ".join(answer))
sys.exit(43)
`;

let bench: JudgingBench;
let problem: Problem;

before(async () => {
  bench = await startJudgingBench({
    secret: SECRET,
    name: "evalchk",
    problem: {
      title: "Any order",
      description: "Print the words in any order.",
      difficulty: "easy",
      codeStubs: [],
      testCases: [
        { input: "a b c\n", output: "c b a\n", hidden: false },
        { input: "x y\n", output: "y x\n", hidden: true },
      ],
      checker: { type: "custom", protocol: "kattis", language: "PYTHON", source: VALIDATOR },
    },
  });
  problem = bench.problem!;
});

after(() => bench?.close());

/** The job exactly as submission-service builds it: the checker from the judging view (no code), the tests by reference. */
async function jobFor(source: string) {
  const { view } = await bench.judgingView(problem._id);
  assert.deepEqual(view.checker, { type: "custom", protocol: "kattis", language: "PYTHON" }, "the judging view carries no checker code");
  return bench.jobFor(view, { source, checker: view.checker!, runAllTests: true });
}

test("the set's checker judges: any order is accepted, a wrong word is WA with the validator's message on the visible test", async () => {
  const right = await jobFor("print(' '.join(input().split()))");
  const accepted = await bench.judged(right);
  assert.equal(accepted.status, "Success", accepted.message ?? "");
  assert.equal(accepted.passed, 2);

  const wrong = await jobFor("print(input().replace('a', 'q').replace('x', 'q'))");
  const rejected = await bench.judged(wrong);
  assert.equal(rejected.status, "WA");
  assert.deepEqual(rejected.results.map((r) => r.status), ["WA", "WA"]);
  assert.equal(rejected.results[0]!.checkerMessage, "wanted the words a b c");
  assert.equal(rejected.results[1]!.checkerMessage, undefined, "hidden test: no checker message");
});

test("a checker served with a set it does not hash to is refused, never cached or run", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sonocode-eval-forged-"));
  try {
    const genuine: TestSet = { problemId: problem._id, hash: problem.testSet.hash, tests: problem.testCases, checker: problem.checker! };
    const forged: TestSet = { ...genuine, checker: { ...problem.checker!, source: "import sys\nsys.exit(42)\n" } };
    const provider = createTestSetProvider({ cache: createTestSetCache({ dir, maxBytes: 1 << 20 }), client: { fetch: async () => ({ kind: "found", testSet: forged }) } });
    await assert.rejects(provider.resolve({ problemId: problem._id, hash: problem.testSet.hash, count: 2 }), /served test set/);
    const honest = createTestSetProvider({ cache: createTestSetCache({ dir, maxBytes: 1 << 20 }), client: { fetch: async () => ({ kind: "found", testSet: genuine }) } });
    const lease = await honest.resolve({ problemId: problem._id, hash: problem.testSet.hash, count: 2 });
    assert.deepEqual(lease.set.checker, problem.checker, "the cached set keeps its checker");
    await lease.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
