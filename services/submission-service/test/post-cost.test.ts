// What accepted POSTs cost the database (issue 9): the POSTs of one event-loop turn share
// one statement (admitMany: the in-flight caps and the multi-row insert), and nothing is
// read back after it; and with
// the problem cache, no call to problem-service after the first.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { silentLogger } from "@sonocode/logger";
import { createStore, type Store, type SubmissionRepository } from "@sonocode/store";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import type { FastifyInstance } from "fastify";
import { buildSubmissionApp, createProblemCache, createProblemClient, createSubmissionQueue, type CachedProblemClient, type SubmissionQueueHandle } from "../src/index.js";
import { bearer, JWT_SECRET, sampleProblem, startProblemService } from "./harness.js";

let store: Store;
let problemService: { baseUrl: string; close(): Promise<void> };
let queue: SubmissionQueueHandle;
let cache: CachedProblemClient;
let app: FastifyInstance;
const calls = new Map<string, number>();
let problemCalls = 0;
let rowsInserted = 0;

before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
  problemService = await startProblemService(store);
  const prefix = uniqueName("post-cost");
  queue = createSubmissionQueue({ redisUrl: testRedisUrl(), prefix });
  const direct = createProblemClient({ baseUrl: problemService.baseUrl, jwtSecret: JWT_SECRET });
  cache = createProblemCache({
    source: { getProblem: (id) => ((problemCalls += 1), direct.getProblem(id)) },
    redisUrl: testRedisUrl(),
    prefix,
    logger: silentLogger(),
  });
  await cache.ready();
  // Every call the POST path makes on the submissions repository, by method.
  const submissions = new Proxy(store.submissions, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        if (property === "admitMany") rowsInserted += (args[0] as unknown[]).length;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as SubmissionRepository;
  app = await buildSubmissionApp({
    store: { ...store, kind: store.kind, problems: store.problems, submissions, ping: () => store.ping(), close: () => store.close() },
    problems: cache,
    submissionQueue: queue.queue,
    jwtSecret: JWT_SECRET,
    logger: silentLogger(),
    // The caps stay on: their checks are part of what a POST costs.
    limits: { perMinute: 1_000, maxInFlight: 1_000 },
  });
});

after(async () => {
  await app.close();
  await cache.close();
  await queue.queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await problemService.close();
  await store.close();
});

test("20 accepted POSTs: one admission statement per batch (caps and insert), nothing read back, one problem-service call", async () => {
  const problem = await store.problems.create(sampleProblem());
  const headers = await bearer("cost-user");
  const responses = await Promise.all(
    Array.from({ length: 20 }, () => app.inject({ method: "POST", url: "/api/v1/submissions", headers, payload: { problemId: problem._id, language: "PYTHON", code: "print(1)" } })),
  );
  for (const response of responses) assert.equal(response.statusCode, 201, response.body);
  // Group commit: one statement per batch (caps and insert together), never one per POST.
  const batches = calls.get("admitMany") ?? 0;
  assert.deepEqual(Object.fromEntries(calls), { admitMany: batches });
  assert.equal(rowsInserted, 20);
  assert.ok(batches < 20, `${batches} batches for 20 concurrent POSTs`);
  assert.equal(problemCalls, 1);
});
