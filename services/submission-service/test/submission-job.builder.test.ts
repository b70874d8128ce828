// The job payload's limits: a problem's per-language limits override its own, field by field.
import assert from "node:assert/strict";
import { test } from "node:test";
import { JUDGE_DEFAULTS, type JudgingProblem } from "@sonocode/contracts";
import { buildSubmissionJob } from "../src/domain/submission-job.builder.js";

const problem: JudgingProblem = {
  _id: "64b7f0c2a1b2c3d4e5f60718",
  codeStubs: [],
  timeLimitMs: 1_000,
  memoryLimitMb: 128,
  languageLimits: { PYTHON: { timeLimitMs: 5_000 }, JAVA: { memoryLimitMb: 512 } },
  testSet: { hash: "a".repeat(64), count: 1 },
  updatedAt: new Date(0).toISOString(),
};
const submission = { _id: "64b7f0c2a1b2c3d4e5f60719", userId: "alice", problemId: problem._id, code: "print(1)" };

test("per-language limits override the problem's, field by field", () => {
  const python = buildSubmissionJob(problem, { ...submission, language: "PYTHON" });
  assert.deepEqual([python.timeLimitMs, python.memoryLimitMb], [5_000, 128]);
  const java = buildSubmissionJob(problem, { ...submission, language: "JAVA" });
  assert.deepEqual([java.timeLimitMs, java.memoryLimitMb], [1_000, 512]);
  const c = buildSubmissionJob(problem, { ...submission, language: "C" });
  assert.deepEqual([c.timeLimitMs, c.memoryLimitMb], [1_000, 128]);
});

test("without any limits the judge's defaults apply", () => {
  const bare: JudgingProblem = { ...problem, timeLimitMs: undefined, memoryLimitMb: undefined, languageLimits: undefined };
  const job = buildSubmissionJob(bare, { ...submission, language: "PYTHON" });
  assert.deepEqual([job.timeLimitMs, job.memoryLimitMb], [JUDGE_DEFAULTS.timeLimitMs, JUDGE_DEFAULTS.memoryLimitMb]);
});
