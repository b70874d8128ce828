// The "judged" log line says where a job's time went (the pipeline bench's --breakdown reads
// it): the queue wait, the test-set lookup, the judge's slot wait, session open, compile and
// tests, the publish steps, and epoch stamps of pick-up and publish. Numbers only: never the
// code or the tests. Real queues, real bwrap judge with warm sessions.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createJudge, type Judge } from "@sonocode/judge";
import { REDACT_PATHS } from "@sonocode/logger";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import { pino } from "pino";
import { createEvaluatorService, type EvaluatorService } from "../src/index.js";
import { PYTHON_AB_OK, SubmissionServiceDouble, submissionJob } from "./helpers.js";

const prefix = uniqueName("eval-stages");
const lines: Array<Record<string, unknown>> = [];
let judge: Judge;
let service: EvaluatorService;
let submissions: SubmissionServiceDouble;

before(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: "info", base: { service: "evaluator-service" }, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, sink);
  judge = await createJudge({ engine: "bwrap", logger: logger.child({ component: "judge" }), maxConcurrency: 1, warmSessions: true });
  service = createEvaluatorService({ redisUrl: testRedisUrl(), prefix, judge, logger, concurrency: 1 });
  submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
});

after(async () => {
  await submissions.close();
  await service.close();
  await judge.close();
});

test("the judged line carries every stage's milliseconds and the pick-up and publish stamps, and no code", async () => {
  const job = submissionJob({ userId: "stan", testCases: [{ input: "31337 4242\n", output: "35579\n", hidden: false }] });
  const enqueuedAt = Date.now();
  await submissions.enqueue(job, { jobId: job.submissionId });
  const [result] = await submissions.settledResults(job.submissionId, 60_000, 200);
  assert.equal(result?.status, "Success");
  const judged = lines.find((line) => line.msg === "judged" && line.submissionId === job.submissionId);
  assert.ok(judged, "one judged line for the submission");
  const stages = judged.stages as Record<string, unknown>;
  for (const stage of ["queuedMs", "testSetMs", "slotWaitMs", "openMs", "compileMs", "testsMs", "judgeMs", "progressFinishMs", "lockMs", "publishMs"]) {
    assert.equal(typeof stages[stage], "number", `${stage} in ${JSON.stringify(stages)}`);
    assert.ok((stages[stage] as number) >= 0, stage);
  }
  const judgeMs = stages.judgeMs as number;
  assert.ok((stages.compileMs as number) + (stages.testsMs as number) <= judgeMs + 0.2, "the judge's stages lie within its time");
  const pickedUpAt = judged.pickedUpAt as number;
  const publishedAt = judged.publishedAt as number;
  assert.ok(pickedUpAt >= enqueuedAt - 1_000 && publishedAt >= pickedUpAt && publishedAt <= Date.now(), "epoch stamps in order");
  const text = JSON.stringify(lines);
  assert.equal(text.includes(PYTHON_AB_OK.trim()), false, "no code in any line");
  assert.equal(text.includes("31337"), false, "no test data in any line");
});
