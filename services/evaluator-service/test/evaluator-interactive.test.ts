// An interactive problem end to end: the interactor stored in problem-service, absent from the
// job (submission-service builds it from the judging view, which has no interactor), fetched
// with the test set, verified against the set's hash, kept by the test-set cache, and run by the
// real bwrap judge behind the real queues against the program.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Problem, TestSet } from "@sonocode/contracts";
import { createTestSetCache, createTestSetProvider } from "../src/index.js";
import { startJudgingBench, type JudgingBench } from "./helpers.js";

const SECRET = "evaluator-interactive-secret-0123456789abcdef0123";
// Kattis protocol: the secret in the input file; "<", ">" or "=" to each guess; 7 guesses.
const INTERACTOR = `import sys
secret = int(open(sys.argv[1]).read())
for asked in range(7):
    guess = int(sys.stdin.readline())
    if guess == secret:
        print("=", flush=True)
        sys.exit(42)
    print("<" if guess < secret else ">", flush=True)
open(sys.argv[3] + "judgemessage.txt", "w").write("too many guesses")
sys.exit(43)
`;
const BINARY_SEARCH = "lo, hi = 1, 100\nwhile True:\n    mid = (lo + hi) // 2\n    print(mid, flush=True)\n    r = input()\n    if r == '=':\n        break\n    lo, hi = (mid + 1, hi) if r == '<' else (lo, mid - 1)\n";

let bench: JudgingBench;
let problem: Problem;

before(async () => {
  bench = await startJudgingBench({
    secret: SECRET,
    name: "evalint",
    problem: {
      title: "Guess",
      description: "Guess the number in 7 tries.",
      difficulty: "easy",
      codeStubs: [],
      testCases: [
        { input: "37\n", output: "", hidden: false },
        { input: "100\n", output: "", hidden: true },
      ],
      timeLimitMs: 1_000,
      interactor: { protocol: "kattis", language: "PYTHON", source: INTERACTOR },
    },
  });
  problem = bench.problem!;
});

after(() => bench?.close());

async function jobFor(source: string) {
  const { text, view } = await bench.judgingView(problem._id);
  assert.ok(!text.includes("judgemessage"), "the judging view carries no interactor code");
  return bench.jobFor(view, { source, runAllTests: true });
}

test("the set's interactor judges: a binary search is accepted, counting up is WA with the interactor's message", async () => {
  const right = await jobFor(BINARY_SEARCH);
  const accepted = await bench.judged(right);
  assert.equal(accepted.status, "Success", accepted.message ?? "");
  assert.equal(accepted.passed, 2);

  const wrong = await jobFor("for g in range(1, 101):\n    print(g, flush=True)\n    if input() == '=':\n        break\n");
  const rejected = await bench.judged(wrong);
  assert.deepEqual(rejected.results.map((r) => r.status), ["WA", "WA"]);
  assert.equal(rejected.results[0]!.checkerMessage, "too many guesses");
  assert.equal(rejected.results[1]!.checkerMessage, undefined, "hidden test: no interactor message");
});

test("an interactor served with a set it does not hash to is refused; the cached set keeps its interactor", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sonocode-eval-interactive-forged-"));
  try {
    const genuine: TestSet = { problemId: problem._id, hash: problem.testSet.hash, tests: problem.testCases, interactor: problem.interactor! };
    const forged: TestSet = { ...genuine, interactor: { ...problem.interactor!, source: "import sys\nsys.exit(42)\n" } };
    const provider = createTestSetProvider({ cache: createTestSetCache({ dir, maxBytes: 1 << 20 }), client: { fetch: async () => ({ kind: "found", testSet: forged }) } });
    await assert.rejects(provider.resolve({ problemId: problem._id, hash: problem.testSet.hash, count: 2 }), /served test set/);
    const honest = createTestSetProvider({ cache: createTestSetCache({ dir, maxBytes: 1 << 20 }), client: { fetch: async () => ({ kind: "found", testSet: genuine }) } });
    const lease = await honest.resolve({ problemId: problem._id, hash: problem.testSet.hash, count: 2 });
    assert.deepEqual(lease.set.interactor, problem.interactor);
    await lease.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
