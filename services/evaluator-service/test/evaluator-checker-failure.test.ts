// A problem whose custom checker fails (testlib exit 3; a checker that does not compile) makes
// the submission IE and flags the problem for admins: an error log line naming the problem and
// the reason (no user code, no checker source), and sonocode_checker_failures_total on /metrics.
// Real bwrap judge, real queues, the real problem-service serving the test set.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { signServiceToken } from "@sonocode/auth";
import { judgingProblemSchema, type Checker, type Interactor, type Problem } from "@sonocode/contracts";
import { createJudge, type Judge } from "@sonocode/judge";
import { silentLogger } from "@sonocode/logger";
import { buildProblemApp } from "@sonocode/problem-service";
import { createStore, type Store } from "@sonocode/store";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import { pino } from "pino";
import { createEvaluatorService, createTestSetCache, createTestSetClient, createTestSetProvider, type EvaluatorService } from "../src/index.js";
import { SubmissionServiceDouble, submissionJob } from "./helpers.js";

const SECRET = "evaluator-checker-failure-secret-0123456789abcdef";
const USER_CODE = "print(' '.join(input().split()))  # user-code-marker";
const FAILING_CHECKER = "import sys\nsys.stderr.write('checker-source-marker: cannot read the answer')\nsys.exit(3)\n";
const BROKEN_CHECKER = "int main(void) { return checker_source_marker }\n";

let store: Store;
let server: Server;
let baseUrl: string;
let judge: Judge;
let service: EvaluatorService;
let metricsUrl: string;
let submissions: SubmissionServiceDouble;
let cacheDir: string;
const logLines: Record<string, unknown>[] = [];

async function problemWith(checker: Checker, interactor?: Interactor): Promise<Problem> {
  return store.problems.create({
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
  const response = await fetch(`${baseUrl}/internal/v1/problems/${problem._id}`, { headers: { authorization: `Bearer ${await signServiceToken("submission-service", SECRET)}` } });
  const view = judgingProblemSchema.parse(((await response.json()) as { data: unknown }).data);
  const { testCases: _inline, ...job } = submissionJob({ problemId: problem._id, language: "PYTHON", source: USER_CODE, checker: view.checker!, runAllTests: false });
  return { ...job, testSet: { problemId: problem._id, hash: view.testSet.hash, count: view.testSet.count } };
}

before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
  server = buildProblemApp({ problems: store.problems, jwtSecret: SECRET, logger: silentLogger() }).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cacheDir = await mkdtemp(join(tmpdir(), "sonocode-eval-checker-failure-"));
  judge = await createJudge({ engine: "bwrap", logger: silentLogger() });
  const prefix = uniqueName("evalchkfail");
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const testSets = createTestSetProvider({ cache: createTestSetCache({ dir: join(cacheDir, "sets"), maxBytes: 1 << 20 }), client: createTestSetClient({ baseUrl, jwtSecret: SECRET }) });
  service = createEvaluatorService({ redisUrl: testRedisUrl(), prefix, judge, logger: pino({ level: "info" }, capture), testSets });
  service.httpServer.listen(0, "127.0.0.1");
  await new Promise((resolve) => service.httpServer.once("listening", resolve));
  metricsUrl = `http://127.0.0.1:${(service.httpServer.address() as AddressInfo).port}/metrics`;
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
    await submissions.enqueue(job, { jobId: job.submissionId });
    const result = (await submissions.settledResults(job.submissionId, 90_000, 200))[0]!;
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
