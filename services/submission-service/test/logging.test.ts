// Logs carry ids (reqId, submissionId) and never the user's code or bearer tokens.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { REDACT_PATHS } from "@sonocode/logger";
import { createStore, type Store } from "@sonocode/store";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { buildSubmissionApp, createProblemClient, createSubmissionQueue, type SubmissionQueueHandle } from "../src/index.js";
import { JWT_SECRET, sampleProblem, startProblemService, tokenFor } from "./harness.js";

const lines: string[] = [];
let store: Store;
let app: FastifyInstance;
let queue: SubmissionQueueHandle;
let problems: { baseUrl: string; close(): Promise<void> };

before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
  problems = await startProblemService(store);
  queue = createSubmissionQueue({ redisUrl: testRedisUrl(), prefix: uniqueName("sub-logs") });
  // The same redaction the platform logger applies, writing into memory instead of stdout.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: "trace", base: { service: "submission-service" }, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, sink);
  app = await buildSubmissionApp({
    store,
    problems: createProblemClient({ baseUrl: problems.baseUrl, jwtSecret: JWT_SECRET }),
    submissionQueue: queue.queue,
    jwtSecret: JWT_SECRET,
    logger,
  });
});
after(async () => {
  await app.close();
  await queue.queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  await problems.close();
  await store.close();
});

test("a submission's logs carry reqId and submissionId, never its code or the token", async () => {
  const problem = await store.problems.create(sampleProblem());
  const token = await tokenFor("logan");
  const code = "print('SECRET-CODE-MARKER-7f3a')";
  const response = await app.inject({
    method: "POST",
    url: "/api/v1/submissions",
    headers: { authorization: `Bearer ${token}`, "x-request-id": "req-logging-1" },
    payload: { problemId: problem._id, language: "PYTHON", code },
  });
  assert.equal(response.statusCode, 201, response.body);
  assert.equal(response.headers["x-request-id"], "req-logging-1");
  const submissionId: string = response.json().data.submission._id;
  const rejected = await app.inject({ method: "POST", url: "/api/v1/submissions", headers: { authorization: `Bearer ${token}x` }, payload: { code } });
  assert.equal(rejected.statusCode, 401);

  const all = lines.join("");
  assert.ok(!all.includes("SECRET-CODE-MARKER"), "code never logged");
  assert.ok(!all.includes(token), "token never logged");
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const queued = entries.find((entry) => entry.msg === "submission queued");
  assert.ok(queued, "the queued line exists");
  assert.equal(queued.reqId, "req-logging-1");
  assert.equal(queued.submissionId, submissionId);
  assert.equal(queued.userId, "logan");
});

test("one access line per request: method, path without the query, status, duration, under the request's ids", async () => {
  lines.length = 0;
  const token = await tokenFor("ada");
  const response = await app.inject({
    method: "GET",
    url: "/api/v1/submissions?limit=5&marker=QUERY-MARKER",
    headers: { authorization: `Bearer ${token}`, "x-request-id": "req-access-1" },
  });
  assert.equal(response.statusCode, 200, response.body);
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.reqId === "req-access-1");
  // Fastify's own pair ("incoming request" + "request completed") would be two lines.
  assert.deepEqual(entries.map((entry) => entry.msg), ["request completed"]);
  const [access] = entries;
  assert.equal(access!.method, "GET");
  assert.equal(access!.path, "/api/v1/submissions");
  assert.equal(access!.status, 200);
  assert.equal(typeof access!.durationMs, "number");
  assert.equal(access!.userId, "ada");
  assert.ok(!lines.join("").includes("QUERY-MARKER"), "the query string is not logged");
});
