// A problem whose custom checker fails (testlib exit 3; a checker that does not compile) makes
// the submission IE and flags the problem for admins: an error log line naming the problem and
// the reason (no user code, no checker source), and sonocode_checker_failures_total on /metrics.
// Real bwrap judge, real queues, the real problem-service serving the test set.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import type { Checker, Interactor, Problem } from "@sonocode/contracts";
import { pino } from "pino";
import { startJudgingBench, type JudgingBench } from "./helpers.js";

const SECRET = "evaluator-checker-failure-secret-0123456789abcdef";
const USER_CODE = "print(' '.join(input().split()))  # user-code-marker";
const FAILING_CHECKER = "import sys\nsys.stderr.write('checker-source-marker: cannot read the answer')\nsys.exit(3)\n";
const BROKEN_CHECKER = "int main(void) { return checker_source_marker }\n";

let bench: JudgingBench;
let metricsUrl: string;
const logLines: Record<string, unknown>[] = [];

async function problemWith(checker: Checker, interactor?: Interactor): Promise<Problem> {
  return bench.store.problems.create({
    ...(interactor ? { interactor } : {}),
    title: "Echo",
    description: "Print the words.",
    difficulty: "easy",
    codeStubs: [],
    testCases: [{ input: "a b\n", output: "a b\n", hidden: false }],
    checker,
  });
}

/** The job as submission-service builds it: the judging view's checker (no code), the tests by reference. */
async function jobFor(problem: Problem) {
  const { view } = await bench.judgingView(problem._id);
  return bench.jobFor(view, { language: "PYTHON", source: USER_CODE, checker: view.checker!, runAllTests: false });
}

before(async () => {
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  bench = await startJudgingBench({ secret: SECRET, name: "evalchkfail", logger: pino({ level: "info" }, capture) });
  bench.service.httpServer.listen(0, "127.0.0.1");
  await new Promise((resolve) => bench.service.httpServer.once("listening", resolve));
  metricsUrl = `http://127.0.0.1:${(bench.service.httpServer.address() as AddressInfo).port}/metrics`;
});

after(() => bench?.close());

test("a failing and a non-compiling checker, and a failing interactor: IE for the submitter, a log line and a counter per problem and reason for admins", async () => {
  const failing = await problemWith({ type: "custom", protocol: "testlib", language: "PYTHON", source: FAILING_CHECKER });
  const broken = await problemWith({ type: "custom", protocol: "testlib", language: "C", source: BROKEN_CHECKER });
  // An interactive problem whose interactor reports its own failure (testlib exit 3).
  const interactive = await problemWith({ type: "exact" }, { protocol: "testlib", language: "PYTHON", source: FAILING_CHECKER });
  const before = await (await fetch(metricsUrl)).text();
  assert.match(before, /# TYPE sonocode_checker_failures_total counter/);
  assert.doesNotMatch(before, /sonocode_checker_failures_total\{/);

  for (const problem of [failing, failing, broken, interactive]) {
    const job = await jobFor(problem);
    const result = await bench.judged(job, 90_000);
    assert.equal(result.status, "IE");
    assert.match(result.message ?? "", /(checker|interactor) failed/);
    assert.equal("checkerFailure" in result, false, "the reason for admins never reaches the submission");
  }

  const metrics = await (await fetch(metricsUrl)).text();
  assert.match(metrics, new RegExp(`^sonocode_checker_failures_total\\{problem="${failing._id}",reason="failed"\\} 2$`, "m"));
  assert.match(metrics, new RegExp(`^sonocode_checker_failures_total\\{problem="${broken._id}",reason="build"\\} 1$`, "m"));
  assert.match(metrics, new RegExp(`^sonocode_checker_failures_total\\{problem="${interactive._id}",reason="interactor"\\} 1$`, "m"));

  const flagged = logLines.filter((line) => line.level === 50 && typeof line.msg === "string" && line.msg.includes("an admin has to fix the problem"));
  assert.deepEqual(
    flagged.map((line) => [line.problemId, line.reason]),
    [
      [failing._id, "failed"],
      [failing._id, "failed"],
      [broken._id, "build"],
      [interactive._id, "interactor"],
    ],
  );
  const everything = JSON.stringify(logLines);
  assert.doesNotMatch(everything, /user-code-marker/, "no user code in any log line");
});
