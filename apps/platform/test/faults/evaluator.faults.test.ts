// Fault injection on the evaluators, in distributed mode (every service its own process, Redis
// with AOF, PostgreSQL): kill -9 of an evaluator mid-judge, a 20 s honest judge on a saturated
// CPU, and an evaluator whose sandbox really breaks (its runtime rootfs unmounted under it).
// Recovery times are printed as "[faults] ..." lines.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { createBreakableRootfs, eventually, type BreakableRootfs } from "@sonocode/testkit";
import { FaultCluster } from "./cluster.js";
import { abProblem, adminToken, call, createProblem, eventProblems, PROGRAMS, SocketTab, Truth, wrongVerdicts, type ProgramName } from "./client.js";

let cluster: FaultCluster;
let rootfs: BreakableRootfs;
let truth: Truth;
let tab: SocketTab;
let token: string;
let problems: { ab: string; abFast: string; ab10: string };
let failed = false;

/** evaluator-2 judges on a rootfs the suite can take away; evaluator-1 on the real one. */
const BREAKABLE = "evaluator-2";

before(async () => {
  rootfs = await createBreakableRootfs();
  cluster = await FaultCluster.start({
    label: "faults-eval",
    evaluators: [
      {},
      { SANDBOX_ROOTFS: rootfs.path, EVALUATOR_ENGINE_FAILURE_THRESHOLD: "2", EVALUATOR_SELF_TEST_INTERVAL_MS: "1000", EVALUATOR_SANDBOX_BACKOFF_MS: "200" },
    ],
    submissionEnv: { RECONCILE_PERIOD_MS: "1000", RECONCILE_GRACE_MS: "3000" },
  });
  truth = new Truth(cluster.databaseUrl);
  token = await adminToken("eve");
  problems = {
    ab: await createProblem(cluster.url("problem"), token, abProblem("A + B")),
    abFast: await createProblem(cluster.url("problem"), token, abProblem("A + B, 300 ms", { timeLimitMs: 300 })),
    ab10: await createProblem(cluster.url("problem"), token, abProblem("A + B, ten tests", { tests: 10, timeLimitMs: 3_000 })),
  };
  tab = await SocketTab.open(cluster.url("socket"), token);
});

after(async () => {
  tab?.close();
  await truth?.close();
  await cluster?.dispose(failed);
  await rootfs?.dispose();
});

function scenario(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    try {
      await fn();
    } catch (error) {
      failed = true;
      throw error;
    }
  });
}

async function submit(program: ProgramName, problemId: string): Promise<string> {
  const { language, code } = PROGRAMS[program];
  const reply = await call(cluster.url("submission"), "POST", "/api/v1/submissions", { token, body: { problemId, language, code } });
  assert.equal(reply.status, 201, `POST: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body!.data.submission._id as string;
}

async function evaluatorSeries(name: string): Promise<Record<string, number>> {
  const entries = await Promise.all(cluster.evaluatorKeys.map(async (key) => [key, (await cluster.metrics(key)).get(name) ?? 0] as const));
  return Object.fromEntries(entries);
}

scenario("kill -9 of an evaluator mid-judge: the other one finishes the submission within 10 s", async () => {
  const id = await submit("pySlow", problems.ab);
  // The evaluator judging it, once it is one test in.
  const holder = await eventually(async () => {
    if (!tab.progress.get(id)?.some((event) => event.passed >= 1)) return null;
    const inFlight = await evaluatorSeries("sonocode_evaluator_jobs_in_flight");
    return Object.entries(inFlight).find(([, count]) => count === 1)?.[0] ?? null;
  }, "the submission to be mid-judge", 30_000);

  const killedAt = Date.now();
  await cluster.kill(holder);
  // When the survivor picks the job up (the stalled check gave it back), seen on its in-flight gauge.
  const survivor = cluster.evaluatorKeys.find((key) => key !== holder)!;
  let restartedMs: number | undefined;
  const watch = (async () => {
    while (restartedMs === undefined && !tab.finals.has(id)) {
      if ((await cluster.metrics(survivor)).get("sonocode_evaluator_jobs_in_flight") === 1) restartedMs = Date.now() - killedAt;
      else await sleep(50);
    }
  })();
  const status = await tab.waitFinal(id, 30_000);
  const recoveredMs = Date.now() - killedAt;
  await watch;
  console.log(`[faults] evaluator kill -9 mid-judge: re-run started ${restartedMs ?? "?"} ms and final verdict ${recoveredMs} ms after the kill`);
  assert.equal(status, "Success");
  assert.ok(recoveredMs < 10_000, `the other evaluator finished it ${recoveredMs} ms after the kill`);
  assert.equal((await truth.statuses([id])).get(id), "Success");
  await sleep(500);
  assert.deepEqual(eventProblems([{ tab, ids: [id] }]), []);
  await cluster.restart(holder);
});

scenario("a 20 s honest judge on a saturated CPU keeps its lock and is judged exactly once", async () => {
  const before = {
    judged: await evaluatorSeries("sonocode_evaluator_judge_duration_seconds_count"),
    lockFailures: await evaluatorSeries("sonocode_evaluator_lock_renewals_failed_total"),
  };
  // One busy loop per core (plus the judge's own CPU): every process, the evaluators included, competes.
  const burners: ChildProcess[] = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  let status: string;
  let judgeMs: number;
  let id: string;
  try {
    const started = Date.now();
    id = await submit("pyLong", problems.ab10);
    status = await tab.waitFinal(id, 120_000);
    judgeMs = Date.now() - started;
    await sleep(500);
    assert.deepEqual(eventProblems([{ tab, ids: [id] }]), []);
  } finally {
    for (const burner of burners) burner.kill("SIGKILL");
  }
  const judged = await evaluatorSeries("sonocode_evaluator_judge_duration_seconds_count");
  const lockFailures = await evaluatorSeries("sonocode_evaluator_lock_renewals_failed_total");
  const loopDelay = await evaluatorSeries("sonocode_evaluator_event_loop_delay_max_seconds");
  console.log(`[faults] long judge under CPU load: ${judgeMs} ms end to end, worst evaluator event-loop delay ${JSON.stringify(loopDelay)} s`);
  assert.equal(status, "Success", `per-test results: ${JSON.stringify(await truth.results(id))}`);
  assert.ok(judgeMs >= 18_000, `the judge really was long (${judgeMs} ms)`);
  const runs = cluster.evaluatorKeys.reduce((sum, key) => sum + (judged[key]! - before.judged[key]!), 0);
  assert.equal(runs, 1, "judged once: no evaluator lost the lock and no other re-ran it");
  for (const key of cluster.evaluatorKeys) {
    assert.equal(lockFailures[key], before.lockFailures[key], `${key} never failed to renew a lock`);
    assert.ok(loopDelay[key]! < 1, `${key}'s event loop never stalled near the lock margin (${loopDelay[key]} s)`);
  }
});

scenario("a broken sandbox on one of two evaluators: no IE, the healthy one judges everything, the broken one comes back", async () => {
  // evaluator-2 (re)started on a runtime rootfs that is not there: for real, no mock.
  await rootfs.break();
  await cluster.restart(BREAKABLE, "answering");
  const brokenAt = Date.now();
  const unhealthy = await eventually(async () => {
    const health = await cluster.health(BREAKABLE);
    return health?.status === 503 && health.body.data.outOfRotation ? health : null;
  }, "the broken evaluator to report itself out of rotation", 20_000);
  assert.equal(unhealthy.body.error.code, "DEPENDENCY_UNAVAILABLE");
  assert.equal(unhealthy.body.data.sandbox, "down");
  assert.match(String(unhealthy.body.data.sandboxReason), /rootfs is missing/);

  const judgedBefore = await evaluatorSeries("sonocode_evaluator_judge_duration_seconds_count");
  const mix: Array<[ProgramName, string]> = [
    ["pyOk", problems.ab],
    ["pyWrong", problems.ab],
    ["jsOk", problems.ab],
    ["cOk", problems.ab],
    ["cBroken", problems.ab],
    ["pyCrash", problems.ab],
    ["pyLoop", problems.abFast],
  ];
  const expected = new Map<string, string>();
  for (let round = 0; round < 3; round += 1) {
    for (const [program, problemId] of mix) expected.set(await submit(program, problemId), PROGRAMS[program].expected);
  }
  const ids = [...expected.keys()];
  const statuses = await truth.waitAllFinal(ids, 120_000);
  const allFinalMs = Date.now() - brokenAt;
  assert.deepEqual(wrongVerdicts(expected, statuses), [], "every verdict right, none IE");
  const judged = await evaluatorSeries("sonocode_evaluator_judge_duration_seconds_count");
  assert.equal(judged[BREAKABLE], 0, "the broken evaluator judged nothing");
  assert.equal(judged["evaluator-1"]! - judgedBefore["evaluator-1"]!, ids.length, "the healthy one judged every submission");
  assert.equal((await cluster.health(BREAKABLE))?.status, 503, "still out, still saying so");

  await rootfs.repair();
  const repairedAt = Date.now();
  await eventually(async () => (await cluster.health(BREAKABLE))?.status === 200, "the repaired evaluator to come back", 20_000);
  const backMs = Date.now() - repairedAt;
  // Back in rotation: with evaluator-1 busy on a long one, the next submission is evaluator-2's.
  const busy = await submit("pySlow", problems.ab);
  const next = await submit("pyOk", problems.ab);
  const after = await truth.waitAllFinal([busy, next], 60_000);
  assert.deepEqual([after.get(busy), after.get(next)], ["Success", "Success"]);
  assert.ok(((await evaluatorSeries("sonocode_evaluator_judge_duration_seconds_count"))[BREAKABLE] ?? 0) >= 1, "the repaired evaluator judges again");
  console.log(`[faults] broken sandbox on 1 of 2 evaluators: ${ids.length} submissions final and right ${allFinalMs} ms after the break (none IE); back in rotation ${backMs} ms after the repair`);
  await sleep(500);
  assert.deepEqual(eventProblems([{ tab, ids: [...ids, busy, next] }]), []);
});
