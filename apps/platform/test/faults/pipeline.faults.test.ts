// Fault injection on the hand-offs, in distributed mode (every service its own process, Redis
// with AOF, PostgreSQL): kill -9 of the submission-service with POSTs in flight, Redis killed and
// restarted, PostgreSQL down for 30 s, and a burst of 300 mixed submissions with an evaluator
// killed in the middle. Every committed submission must end final with the right verdict, and
// every tab of its user must get exactly one final event. Recovery times: "[faults] ..." lines.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { QUEUES } from "@sonocode/contracts";
import { FaultCluster } from "./cluster.js";
import { abProblem, adminToken, call, createProblem, eventProblems, isFinal, PROGRAMS, SocketTab, Truth, wrongVerdicts, type ProgramName, type Reply } from "./client.js";

/** How often the submission-service's reconciler looks, and how old a submission must be first. */
const RECONCILE = { periodMs: 1_000, graceMs: 2_000 };

let cluster: FaultCluster;
let truth: Truth;
let adminTokenValue: string;
let problems: { ab: string; abFast: string };
let failed = false;
const openTabs: SocketTab[] = [];

before(async () => {
  cluster = await FaultCluster.start({
    label: "faults-pipeline",
    evaluators: [{}, {}],
    submissionEnv: { RECONCILE_PERIOD_MS: String(RECONCILE.periodMs), RECONCILE_GRACE_MS: String(RECONCILE.graceMs) },
  });
  truth = new Truth(cluster.databaseUrl);
  adminTokenValue = await adminToken("setup");
  problems = {
    ab: await createProblem(cluster.url("problem"), adminTokenValue, abProblem("A + B")),
    abFast: await createProblem(cluster.url("problem"), adminTokenValue, abProblem("A + B, 300 ms", { timeLimitMs: 300 })),
  };
});

after(async () => {
  for (const tab of openTabs) tab.close();
  await truth?.close();
  await cluster?.dispose(failed);
});

function scenario(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    try {
      // Each scenario starts from a healthy platform (after a Redis restart, clients reconnect with back-off).
      for (const key of ["problem", "submission", "socket", ...cluster.evaluatorKeys]) await cluster.waitHealthy(key, 30_000);
      await fn();
    } catch (error) {
      failed = true;
      throw error;
    }
  });
}

interface User {
  id: string;
  token: string;
  tabs: SocketTab[];
}

async function users(label: string, count: number, tabsEach = 1): Promise<User[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const id = `${label}-${i}`;
      const token = await adminToken(id);
      const tabs = await Promise.all(Array.from({ length: tabsEach }, () => SocketTab.open(cluster.url("socket"), token)));
      openTabs.push(...tabs);
      return { id, token, tabs };
    }),
  );
}

function post(user: User, program: ProgramName, problemId: string, timeoutMs = 30_000): Promise<Reply> {
  const { language, code } = PROGRAMS[program];
  return call(cluster.url("submission"), "POST", "/api/v1/submissions", { token: user.token, body: { problemId, language, code }, timeoutMs });
}

function acceptedId(reply: Reply): string {
  assert.equal(reply.status, 201, `POST: ${reply.status} ${JSON.stringify(reply.body)} ${reply.networkError ?? ""}`);
  return reply.body!.data.submission._id as string;
}

/** Every tab of each user must have exactly one final event per submission of that user. */
async function assertOneEventPerTab(all: User[], idsOf: (user: User) => readonly string[]): Promise<void> {
  // Let late duplicates (a replayed result) arrive before counting.
  await sleep(1_000);
  assert.deepEqual(eventProblems(all.flatMap((user) => user.tabs.map((tab) => ({ tab, ids: idsOf(user) })))), []);
}

async function idsByUser(all: User[]): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>();
  for (const user of all) byUser.set(user.id, [...(await truth.byUsers([user.id])).keys()]);
  return byUser;
}

scenario("kill -9 of the submission-service with 40 POSTs in flight: every committed submission ends final, no orphan", async () => {
  const people = await users("kill-sub", 8);
  const posts = Array.from({ length: 40 }, (_, i) => post(people[i % people.length]!, "pyOk", problems.ab, 15_000));
  // Kill once a fifth have their answer: the rest are somewhere between parse, problem load,
  // commit and enqueue, and some are committed with their job not yet added.
  let answered = 0;
  const fifth = new Promise<void>((resolve) => {
    for (const reply of posts) void reply.then((r) => (r.status === 201 && ++answered === 8 ? resolve() : undefined));
  });
  await Promise.race([fifth, sleep(5_000)]);
  await cluster.kill("submission");
  const replies = await Promise.all(posts);
  const accepted = replies.filter((reply) => reply.status === 201).map(acceptedId);
  assert.ok(replies.every((reply) => reply.status === 201 || reply.status === 0 || reply.status === 503), `only 201, 503 or a cut connection: ${replies.map((r) => r.status).join(",")}`);

  const committed = await truth.byUsers(people.map((user) => user.id));
  const connection = new Redis(cluster.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.submission, { connection, prefix: cluster.prefix });
  let orphans = 0;
  try {
    for (const [id, status] of committed) if (status === "Pending" && !(await queue.getJob(id))) orphans += 1;
  } finally {
    await queue.close();
    connection.disconnect();
  }

  const restartedAt = Date.now();
  await cluster.restart("submission");
  // Grace + a period + judging: 30 s is ample; a reconciler that never acts fails here.
  const statuses = await truth.waitAllFinal([...committed.keys()], 30_000);
  console.log(
    `[faults] submission-service kill -9 with 40 POSTs in flight: ${accepted.length} answered 201, ${committed.size} committed, ${orphans} orphan(s) (Pending, no job); all final ${Date.now() - restartedAt} ms after the restart (reconciler every ${RECONCILE.periodMs} ms, grace ${RECONCILE.graceMs} ms)`,
  );
  for (const id of accepted) assert.ok(committed.has(id), `an acknowledged submission ${id} is in the database`);
  assert.deepEqual(wrongVerdicts(new Map([...committed.keys()].map((id) => [id, "Success"])), statuses), []);
  const byUser = await idsByUser(people);
  await assertOneEventPerTab(people, (user) => byUser.get(user.id) ?? []);
});

scenario("Redis killed (kill -9) and restarted with AOF: nothing accepted is lost, 503 meanwhile", async () => {
  const people = await users("redis", 4);
  const accepted: string[] = [];
  for (let i = 0; i < 16; i += 1) accepted.push(acceptedId(await post(people[i % people.length]!, "pySlow", problems.ab)));
  // Some judged, some judging, some queued when Redis dies.
  await sleep(2_500);
  await cluster.redis.kill();
  const killedAt = Date.now();
  await sleep(500);
  const during = await post(people[0]!, "pyOk", problems.ab, 12_000);
  const read = await call(cluster.url("submission"), "GET", `/api/v1/submissions/${accepted[0]}`, { token: people[0]!.token, timeoutMs: 12_000 });
  await sleep(Math.max(0, 3_000 - (Date.now() - killedAt)));
  await cluster.redis.restart();
  const restartedAt = Date.now();
  const statuses = await truth.waitAllFinal(accepted, 90_000);
  console.log(`[faults] Redis kill -9 for ${restartedAt - killedAt} ms, restarted from AOF: ${accepted.length} accepted submissions all final ${Date.now() - restartedAt} ms after the restart; POST during the outage: ${during.status} ${during.body?.error.code ?? during.networkError} in ${during.ms} ms`);
  assert.equal(during.status, 503, "a POST while Redis is down is a 503");
  assert.equal(during.body?.error.code, "QUEUE_UNAVAILABLE");
  assert.ok(during.ms < 10_000);
  assert.equal(read.status, 200, "reads do not need Redis");
  assert.deepEqual(wrongVerdicts(new Map(accepted.map((id) => [id, "Success"])), statuses), []);
  const all = await truth.byUsers(people.map((user) => user.id));
  assert.equal(all.size, accepted.length, "the refused POST left no row");
  const byUser = await idsByUser(people);
  await assertOneEventPerTab(people, (user) => byUser.get(user.id) ?? []);
});

scenario("PostgreSQL down for 30 s: 503 (never 500, never a hang) meanwhile, every verdict applied afterwards", async () => {
  const people = await users("pg", 4);
  const accepted: string[] = [];
  for (let i = 0; i < 12; i += 1) accepted.push(acceptedId(await post(people[i % people.length]!, "pySlow", problems.ab)));
  await cluster.postgres.stop();
  const stoppedAt = Date.now();
  const probes: Array<{ what: string; status: number; code: string | undefined; ms: number }> = [];
  const user = people[0]!;
  while (Date.now() - stoppedAt < 30_000) {
    const round = await Promise.all([
      call(cluster.url("submission"), "GET", `/api/v1/submissions/${accepted[0]}`, { token: user.token, timeoutMs: 15_000 }).then((r) => ["GET submission", r] as const),
      call(cluster.url("submission"), "GET", "/api/v1/submissions", { token: user.token, timeoutMs: 15_000 }).then((r) => ["GET submissions", r] as const),
      post(user, "pyOk", problems.ab, 15_000).then((r) => ["POST submission", r] as const),
      call(cluster.url("problem"), "GET", `/api/v1/problems/${problems.ab}`, { timeoutMs: 15_000 }).then((r) => ["GET problem", r] as const),
      call(cluster.url("submission"), "GET", "/health", { timeoutMs: 15_000 }).then((r) => ["submission /health", r] as const),
    ]);
    for (const [what, reply] of round) probes.push({ what, status: reply.status, code: reply.body?.error.code, ms: reply.ms });
    await sleep(1_000);
  }
  await cluster.postgres.start();
  const startedAt = Date.now();
  const statuses = await truth.waitAllFinal(accepted, 90_000);
  const summary = [...new Set(probes.map((probe) => `${probe.what} ${probe.status} ${probe.code ?? ""}`))].join("; ");
  console.log(`[faults] PostgreSQL down ${startedAt - stoppedAt} ms: ${accepted.length} submissions all final ${Date.now() - startedAt} ms after it came back; ${probes.length} requests meanwhile, slowest ${Math.max(...probes.map((probe) => probe.ms))} ms: ${summary}`);
  const bad = probes.filter((probe) => probe.status !== 503 || probe.ms > 10_000);
  assert.deepEqual(bad, [], "every request during the outage is a prompt 503");
  // Reads name the database; a POST first needs its problem, so it names problem-service (whose database is down).
  const reads = probes.filter((probe) => probe.what.startsWith("GET"));
  assert.ok(reads.every((probe) => probe.code === "DATABASE_UNAVAILABLE"), "reads name the database");
  assert.ok(probes.filter((probe) => probe.what === "POST submission").every((probe) => probe.code === "DATABASE_UNAVAILABLE" || probe.code === "DEPENDENCY_UNAVAILABLE"));
  assert.deepEqual(wrongVerdicts(new Map(accepted.map((id) => [id, "Success"])), statuses), []);
  const byUser = await idsByUser(people);
  assert.equal([...byUser.values()].flat().length, accepted.length, "the refused POSTs left no row");
  await assertOneEventPerTab(people, (each) => byUser.get(each.id) ?? []);
});

/** A fixed mix: mostly right answers, and every other verdict the platform gives. */
const BURST_MIX: Array<[ProgramName, "ab" | "abFast", number]> = [
  ["pyOk", "ab", 40],
  ["pyWrong", "ab", 15],
  ["jsOk", "ab", 15],
  ["pyCrash", "ab", 10],
  ["cOk", "ab", 8],
  ["cBroken", "ab", 7],
  ["pyLoop", "abFast", 5],
];

scenario("a burst of 300 mixed submissions, an evaluator killed in the middle: all final, all right, one event per tab", async () => {
  const people = await users("burst", 20);
  // Five users have a second tab open: each tab gets its own copy of every event.
  for (const user of people.slice(0, 5)) {
    const extra = await SocketTab.open(cluster.url("socket"), user.token);
    openTabs.push(extra);
    user.tabs.push(extra);
  }
  const plan: Array<[ProgramName, string]> = [];
  for (let i = 0; plan.length < 300; i += 1) {
    for (const [program, problem, weight] of BURST_MIX) if (i % 100 < weight && plan.length < 300) plan.push([program, problems[problem]]);
  }
  const started = Date.now();
  const expected = new Map<string, string>();
  const idsOf = new Map<string, string[]>(people.map((user) => [user.id, []]));
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < plan.length) {
        const n = next++;
        const user = people[n % people.length]!;
        const [program, problemId] = plan[n]!;
        const id = acceptedId(await post(user, program, problemId));
        expected.set(id, PROGRAMS[program].expected);
        idsOf.get(user.id)!.push(id);
      }
    }),
  );
  const postedMs = Date.now() - started;

  // kill -9 one evaluator once a third is done, and bring it back.
  const ids = [...expected.keys()];
  for (;;) {
    const done = [...(await truth.statuses(ids)).values()].filter((status) => isFinal(status)).length;
    if (done >= 100) break;
    await sleep(200);
  }
  const killAt = Date.now() - started;
  await cluster.kill("evaluator-1");
  await cluster.restart("evaluator-1");

  const statuses = await truth.waitAllFinal(ids, 300_000);
  const allFinalMs = Date.now() - started;
  console.log(`[faults] burst: 300 submissions posted in ${postedMs} ms, all final in ${allFinalMs} ms (${(300_000 / allFinalMs).toFixed(1)}/s), evaluator-1 killed at ${killAt} ms and restarted`);
  assert.deepEqual(wrongVerdicts(expected, statuses), []);
  await assertOneEventPerTab(people, (user) => idsOf.get(user.id) ?? []);
});
