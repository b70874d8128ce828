// The rejudge feeder's own timer (autoStart), through real boundaries (PGlite, real Redis, BullMQ,
// the real problem-service): while nothing is to be rejudged its ticks back off to maxIdlePeriods
// periods (an idle tick still reads the database twice), a rejudge it was not woken for (recorded
// by another replica) is queued within that back-off, work brings the period back, and wake()
// ticks at once whatever the back-off.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { submissionJobId, type Submission } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import type { Store } from "@sonocode/store";
import { eventually } from "@sonocode/testkit";
import { createProblemClient, createRejudgeFeeder, type RejudgeFeeder } from "../src/index.js";
import { JWT_SECRET, recordAndMarkRejudge, startHarness, type Harness } from "./harness.js";

const PERIOD_MS = 50;
const MAX_IDLE_PERIODS = 4;

let h: Harness;
let feeder: RejudgeFeeder;
/** When each of the feeder's ticks read its window (only ticks holding the period lock do). */
const ticks: number[] = [];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ticksSince = (from: number) => ticks.filter((at) => at >= from).length;

before(async () => {
  h = await startHarness("rejudge-idle");
  const rejudges = h.store.rejudges;
  const counted: Store = {
    ...h.store,
    rejudges: {
      listRejudging: (limit) => {
        ticks.push(Date.now());
        return rejudges.listRejudging(limit);
      },
    },
  };
  feeder = createRejudgeFeeder({
    store: counted,
    problems: createProblemClient({ baseUrl: h.problemServiceUrl, jwtSecret: JWT_SECRET }),
    submissionQueue: h.queue.queue,
    redisUrl: h.redisUrl,
    prefix: h.prefix,
    logger: silentLogger(),
    periodMs: PERIOD_MS,
    maxIdlePeriods: MAX_IDLE_PERIODS,
  });
});

after(async () => {
  await feeder.close();
  await h.close();
});

/** A finished submission with its rejudge recorded and marked directly in the store: no wake(), as on another replica. */
async function rejudgedElsewhere(userId: string): Promise<Submission> {
  const created = await h.store.submissions.create({ userId, problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 });
  await h.store.submissions.finalize(created._id, { status: "WA", passed: 0, total: 2, timeMs: 5, memoryKb: 1_000, results: [], compileOutput: null, failedTest: null, message: null }, 0);
  await recordAndMarkRejudge(h.store, h.problem._id);
  return created;
}

describe("rejudge feeder timer", () => {
  test("idle ticks back off to maxIdlePeriods periods; an unannounced rejudge is queued within that; work restores the period", async () => {
    await eventually(() => ticks.length > 0, "the first tick");
    const idleFrom = Date.now();
    await pause(1_500);
    const idle = ticksSince(idleFrom);
    // Every period would be ~30 ticks; doubling to 4 periods (200 ms) is ~9.
    assert.ok(idle >= 5 && idle <= 14, `${idle} idle ticks in 1.5 s`);
    const gaps = ticks.slice(-4).map((at, index, all) => (index === 0 ? 0 : at - all[index - 1]!)).slice(1);
    assert.ok(gaps.every((gap) => gap >= MAX_IDLE_PERIODS * PERIOD_MS * 0.85), `backed-off gaps ${gaps.join(", ")} ms`);

    const submission = await rejudgedElsewhere("ivy");
    const recorded = Date.now();
    const jobId = submissionJobId(submission._id, 1);
    await eventually(async () => (await h.queue.queue.getJob(jobId)) !== undefined, "the rejudge's job", 5_000);
    const queuedAfter = Date.now() - recorded;
    assert.ok(queuedAfter < MAX_IDLE_PERIODS * PERIOD_MS * 1.1 + 400, `queued ${queuedAfter} ms after it was recorded`);

    // In the window (nothing judges it here): ticks every period again.
    const busyFrom = Date.now();
    await pause(600);
    const busy = ticksSince(busyFrom);
    assert.ok(busy >= 7, `${busy} ticks in 600 ms with a rejudge in the window`);

    const done = await h.store.submissions.finalize(submission._id, { status: "Success", passed: 2, total: 2, timeMs: 5, memoryKb: 1_000, results: [], compileOutput: null, failedTest: null, message: null }, 1);
    assert.ok(done?.applied);
    await h.queue.queue.remove(jobId);
  });

  test("wake() ticks at once, however far the idle back-off went", async () => {
    await pause(MAX_IDLE_PERIODS * PERIOD_MS * 4);
    // Just after a tick, so the next one by the timer is ~200 ms away.
    const last = ticks.length;
    await eventually(() => ticks.length > last, "a timer tick");
    await pause(PERIOD_MS); // past the tick's half-period lock
    const woken = Date.now();
    feeder.wake();
    await eventually(() => ticksSince(woken) > 0, "the woken tick", 2_000);
    const delay = ticks.find((at) => at >= woken)! - woken;
    assert.ok(delay < MAX_IDLE_PERIODS * PERIOD_MS * 0.5, `ticked ${delay} ms after wake()`);
  });
});
