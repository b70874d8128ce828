// submission-service while its database is down (a real PGlite, closed): every
// endpoint answers 503 with the code of the component that is down, nothing is
// queued, and /health names the database. problem-service keeps its own store.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { silentLogger } from "@sonocode/logger";
import { createStore, newObjectId, type Store } from "@sonocode/store";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import type { FastifyInstance } from "fastify";
import { buildSubmissionApp, createProblemClient, createSubmissionQueue, type SubmissionQueueHandle } from "../src/index.js";
import { JWT_SECRET, bearer, sampleProblem, startProblemService } from "./harness.js";

let problemStore: Store;
let submissionStore: Store;
let problems: { baseUrl: string; close(): Promise<void> };
let queue: SubmissionQueueHandle;
let app: FastifyInstance;
let problemId: string;
let submissionId: string;

before(async () => {
  [problemStore, submissionStore] = await Promise.all([createStore({ kind: "pglite", dataDir: null }), createStore({ kind: "pglite", dataDir: null })]);
  problems = await startProblemService(problemStore);
  problemId = (await problemStore.problems.create(sampleProblem()))._id;
  queue = createSubmissionQueue({ redisUrl: testRedisUrl(), prefix: uniqueName("sub-db-outage") });
  app = await buildSubmissionApp({
    store: submissionStore,
    problems: createProblemClient({ baseUrl: problems.baseUrl, jwtSecret: JWT_SECRET, timeoutMs: 2_000 }),
    submissionQueue: queue.queue,
    jwtSecret: JWT_SECRET,
    logger: silentLogger(),
  });
  submissionId = (await submissionStore.submissions.create({ userId: "nia", problemId, language: "PYTHON", code: "print(1)", total: 2 }))._id;
  await submissionStore.close();
});

after(async () => {
  await app.close();
  await queue.queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await problems.close();
  await problemStore.close();
});

describe("submission-service while the database is down", () => {
  test("POST, GET one and GET list answer 503 DATABASE_UNAVAILABLE with Retry-After; nothing is queued", async () => {
    const requests = [
      { method: "POST" as const, url: "/api/v1/submissions", payload: { problemId, language: "PYTHON", code: "print(2)" } },
      { method: "POST" as const, url: "/api/v1/submission", payload: { problemId, language: "PYTHON", code: "print(2)" } },
      { method: "GET" as const, url: `/api/v1/submissions/${submissionId}` },
      { method: "GET" as const, url: `/api/v1/submissions/${newObjectId()}` },
      { method: "GET" as const, url: "/api/v1/submissions?page=1&limit=5" },
    ];
    for (const request of requests) {
      const response = await app.inject({ ...request, headers: await bearer("nia") });
      assert.equal(response.statusCode, 503, `${request.method} ${request.url}: ${response.body}`);
      const body = response.json();
      assert.equal(body.error.code, "DATABASE_UNAVAILABLE");
      assert.equal(body.error.details.component, "database");
      assert.equal(typeof body.error.details.errorId, "string");
      assert.equal(response.headers["retry-after"], "5");
    }
    assert.equal(await queue.queue.count(), 0, "no job without a committed row");
  });

  test("bad input still comes first: 400 for a malformed id, 401 without a token", async () => {
    assert.equal((await app.inject({ method: "GET", url: "/api/v1/submissions/nope", headers: await bearer("nia") })).statusCode, 400);
    assert.equal((await app.inject({ method: "GET", url: `/api/v1/submissions/${submissionId}` })).statusCode, 401);
  });

  test("/health is 503 and says the database is the one down", async () => {
    const response = await app.inject({ method: "GET", url: "/health" });
    assert.equal(response.statusCode, 503);
    const body = response.json();
    assert.match(body.data.checks.database, /^down/);
    assert.equal(body.data.checks.redis, "ok");
  });
});
