// The POST path's problem cache (issue 9): two submission-service replicas and the real
// problem-service on one real Redis; changes made through problem-service reach both
// replicas, a lost announcement costs at most the TTL, a lost subscription drops everything.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Problem } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { connectProblemChangePublisher, type RedisProblemChangePublisher } from "@sonocode/problem-service";
import { createStore, type Store } from "@sonocode/store";
import { eventually, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { Job } from "bullmq";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import {
  buildSubmissionApp,
  createProblemCache,
  createProblemClient,
  createSubmissionQueue,
  type CachedProblemClient,
  type ProblemClient,
  type SubmissionQueueHandle,
} from "../src/index.js";
import { bearer, JWT_SECRET, sampleProblem, startProblemService, tokenFor } from "./harness.js";

interface Replica {
  app: FastifyInstance;
  queue: SubmissionQueueHandle;
  cache: CachedProblemClient;
  /** problem-service calls this replica made. */
  calls: () => number;
}

const prefix = uniqueName("problem-cache");
let store: Store;
let publisher: RedisProblemChangePublisher;
let problemService: { baseUrl: string; close(): Promise<void> };
let clock = 0;
const replicas: Replica[] = [];
let admin: Redis;

async function startReplica(options: { ttlMs?: number; now?: () => number } = {}): Promise<Replica> {
  const direct = createProblemClient({ baseUrl: problemService.baseUrl, jwtSecret: JWT_SECRET, timeoutMs: 2_000 });
  let calls = 0;
  const counted: ProblemClient = {
    getProblem: (id) => {
      calls += 1;
      return direct.getProblem(id);
    },
  };
  const queue = createSubmissionQueue({ redisUrl: testRedisUrl(), prefix });
  const cache = createProblemCache({ source: counted, redisUrl: testRedisUrl(), prefix, logger: silentLogger(), ...options });
  await cache.ready();
  const app = await buildSubmissionApp({
    store,
    problems: cache,
    submissionQueue: queue.queue,
    jwtSecret: JWT_SECRET,
    logger: silentLogger(),
    limits: { perMinute: 0, maxInFlight: 0 },
  });
  const replica = { app, queue, cache, calls: () => calls };
  replicas.push(replica);
  return replica;
}

async function submit(replica: Replica, problemId: string): Promise<{ status: number; body: { data: { submission?: { _id: string } }; error: { code?: string } } }> {
  const response = await replica.app.inject({
    method: "POST",
    url: "/api/v1/submissions",
    headers: await bearer("cache-user"),
    payload: { problemId, language: "PYTHON", code: "print(1)" },
  });
  return { status: response.statusCode, body: response.json() };
}

/** The time limit the accepted submission's job was built with: what the cache served. */
async function jobTimeLimit(replica: Replica, problemId: string): Promise<number> {
  const response = await submit(replica, problemId);
  assert.equal(response.status, 201, JSON.stringify(response.body));
  const job = await Job.fromId(replica.queue.queue, response.body.data.submission!._id);
  assert.ok(job);
  return (job.data as { timeLimitMs: number }).timeLimitMs;
}

async function adminCall(method: "PATCH" | "DELETE", problem: Problem, body?: unknown): Promise<void> {
  const response = await fetch(`${problemService.baseUrl}/api/v1/problems/${problem._id}`, {
    method,
    headers: { authorization: `Bearer ${await tokenFor("admin", "admin")}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.equal(response.status, 200, await response.text());
}

before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
  publisher = await connectProblemChangePublisher({ redisUrl: testRedisUrl(), prefix, logger: silentLogger() });
  problemService = await startProblemService(store, publisher);
  admin = new Redis(testRedisUrl());
});

after(async () => {
  for (const replica of replicas) {
    await replica.app.close();
    await replica.cache.close();
  }
  await replicas[0]?.queue.queue.obliterate({ force: true }).catch(() => undefined);
  for (const replica of replicas) await replica.queue.close();
  await problemService.close();
  await publisher.close();
  await admin.quit();
  await store.close();
});

describe("problem cache on the POST path", () => {
  test("two replicas: cached after the first POST, then a PATCH and a DELETE through problem-service reach both", async () => {
    const [a, b] = [await startReplica(), await startReplica()];
    const problem = await store.problems.create(sampleProblem({ timeLimitMs: 1_000 }));
    for (const replica of [a, b]) {
      assert.equal(await jobTimeLimit(replica, problem._id), 1_000);
      assert.equal(await jobTimeLimit(replica, problem._id), 1_000);
      assert.equal(await jobTimeLimit(replica, problem._id), 1_000);
      // One call to problem-service per replica, then none: the POST reads the cache.
      assert.equal(replica.calls(), 1);
    }

    const seen = (replica: Replica) => replica.cache.stats().invalidations;
    const heard = [seen(a), seen(b)];
    await adminCall("PATCH", problem, { timeLimitMs: 750 });
    await eventually(() => seen(a) > heard[0]! && seen(b) > heard[1]!, "both replicas hear the PATCH", 5_000);
    assert.equal(await jobTimeLimit(a, problem._id), 750);
    assert.equal(await jobTimeLimit(b, problem._id), 750);

    await adminCall("DELETE", problem);
    await eventually(() => seen(a) > heard[0]! + 1 && seen(b) > heard[1]! + 1, "both replicas hear the DELETE", 5_000);
    for (const replica of [a, b]) {
      const refused = await submit(replica, problem._id);
      assert.equal(refused.status, 404);
      assert.equal(refused.body.error.code, "PROBLEM_NOT_FOUND");
    }
  });

  test("an announcement that never came (problem changed behind problem-service's back) costs at most the TTL", async () => {
    const replica = await startReplica({ ttlMs: 30_000, now: () => clock });
    const problem = await store.problems.create(sampleProblem({ timeLimitMs: 1_000 }));
    assert.equal(await jobTimeLimit(replica, problem._id), 1_000);
    // Straight into the store: nothing is published.
    await store.problems.update(problem._id, { timeLimitMs: 500 });
    clock += 29_000;
    assert.equal(await jobTimeLimit(replica, problem._id), 1_000, "still inside the TTL: the cached view");
    clock += 1_001;
    assert.equal(await jobTimeLimit(replica, problem._id), 500, "past the TTL: read again");
  });

  test("a lost subscription drops every entry: what was announced while away is never missed", async () => {
    const replica = await startReplica();
    const problem = await store.problems.create(sampleProblem({ timeLimitMs: 1_000 }));
    assert.equal(await jobTimeLimit(replica, problem._id), 1_000);
    assert.equal(replica.cache.stats().size, 1);
    // The change happens while no announcement can reach the replica (here: none is sent at all).
    await store.problems.update(problem._id, { timeLimitMs: 600 });
    const clients = (await admin.client("LIST")) as string;
    const ids = clients
      .split("\n")
      .filter((line) => line.includes(` name=problem-cache:${prefix} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    assert.ok(ids.length >= 1, "the replicas' subscriber connections are named after the prefix");
    for (const id of ids) await admin.client("KILL", "ID", id);
    await eventually(() => replica.cache.stats().size === 0, "entries dropped on disconnect", 5_000);
    await eventually(() => replica.cache.stats().live, "subscription back", 10_000);
    assert.equal(await jobTimeLimit(replica, problem._id), 600);
  });
});
