// Distributed mode: each service's own main.ts as a separate process (exactly what
// `npm run start -w <service>` runs), on real Redis and a real PostgreSQL server,
// wired only through environment variables. Then one submission end to end, and a
// clean SIGTERM shutdown of every process.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signToken } from "@sonocode/auth";
import { createTestDatabase, eventually, freePort, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { AB_PROBLEM, PYTHON_AB_OK, call, connectSocket, type ClientSocket } from "./helpers.js";

const SECRET = "distributed-test-secret-0123456789abcdef";
const SERVICES = ["problem-service", "submission-service", "socket-service", "evaluator-service"] as const;
const processes = new Map<string, ChildProcess>();
const exits = new Map<string, Promise<number | null>>();
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let urls: Record<(typeof SERVICES)[number], string>;
let socket: ClientSocket | undefined;

before(async () => {
  database = await createTestDatabase("dist");
  const [problem, submission, socketPort, evaluator] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  urls = {
    "problem-service": `http://127.0.0.1:${problem}`,
    "submission-service": `http://127.0.0.1:${submission}`,
    "socket-service": `http://127.0.0.1:${socketPort}`,
    "evaluator-service": `http://127.0.0.1:${evaluator}`,
  };
  const env = {
    ...process.env,
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    JWT_SECRET: SECRET,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: uniqueName("dist"),
    DATABASE_URL: database.url,
    HOST: "127.0.0.1",
    PROBLEM_SERVICE_PORT: String(problem),
    SUBMISSION_SERVICE_PORT: String(submission),
    SOCKET_SERVICE_PORT: String(socketPort),
    EVALUATOR_PORT: String(evaluator),
    PROBLEM_SERVICE_URL: urls["problem-service"],
    SUBMISSION_SERVICE_URL: urls["submission-service"],
    SANDBOX_ENGINE: "bwrap",
    TEST_SET_CACHE_DIR: join(tmpdir(), uniqueName("dist-test-sets")),
  };
  for (const service of SERVICES) {
    const child = spawn(process.execPath, ["--import", "tsx", `services/${service}/src/main.ts`], {
      cwd: new URL("../../..", import.meta.url).pathname,
      env,
      stdio: ["ignore", "ignore", "inherit"],
    });
    processes.set(service, child);
    exits.set(service, new Promise((resolve) => child.once("exit", (code) => resolve(code))));
  }
  for (const service of SERVICES) {
    await eventually(async () => (await fetch(`${urls[service]}/health`).catch(() => null))?.status === 200, `${service} healthy`, 60_000);
  }
});

after(async () => {
  socket?.disconnect();
  for (const child of processes.values()) if (child.exitCode === null) child.kill("SIGKILL");
  await database?.drop();
});

test("the four services, each alone, judge a submission end to end on PostgreSQL", async () => {
  const [admin, user] = await Promise.all([
    signToken({ sub: "admin", role: "admin" }, SECRET),
    signToken({ sub: "erin", role: "user" }, SECRET),
  ]);
  const created = await call(urls["problem-service"], "POST", "/api/v1/problems", { token: admin, body: AB_PROBLEM });
  assert.equal(created.status, 201);

  socket = await connectSocket(urls["socket-service"], user);
  const pushed = new Promise<any>((resolve) => socket!.once("submissionPayloadResponse", resolve));
  const submitted = await call(urls["submission-service"], "POST", "/api/v1/submissions", {
    token: user,
    body: { problemId: created.body.data._id, language: "python", code: PYTHON_AB_OK },
  });
  assert.equal(submitted.status, 201);
  const result = await pushed;
  assert.equal(result._id, submitted.body.data.submission._id);
  assert.equal(result.status, "Success");
  const fetched = await call(urls["submission-service"], "GET", `/api/v1/submissions/${result._id}`, { token: user });
  assert.equal(fetched.body.data.status, "Success");

  // A rejudge crosses the services too: problem-service -> submission-service's internal route
  // (SUBMISSION_SERVICE_URL) -> its feeder -> the evaluator -> the owner's socket, as generation 1.
  const rejudged = new Promise<any>((resolve) => socket!.once("submissionPayloadResponse", resolve));
  const rejudge = await call(urls["problem-service"], "POST", `/api/v1/problems/${created.body.data._id}/rejudge`, { token: admin });
  assert.equal(rejudge.status, 202, JSON.stringify(rejudge.body));
  assert.deepEqual([rejudge.body.data.queued, rejudge.body.data.created], [1, true]);
  const again = await rejudged;
  assert.deepEqual([again._id, again.status, again.previousStatus, again.rejudgeGeneration], [result._id, "Success", "Success", 1]);
});

test("every service stops cleanly on SIGTERM", async () => {
  for (const [service, child] of processes) {
    child.kill("SIGTERM");
    assert.equal(await exits.get(service), 0, `${service} exit code`);
  }
});
