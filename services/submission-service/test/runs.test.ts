// POST/GET /api/v1/runs and the run-result path through real boundaries: Fastify inject, the
// real problem-service and PGlite store, BullMQ on real Redis, and run:result received by
// socket.io-client from the real socket-service. No evaluator runs here: the queue is read
// directly (what an evaluator would take, and in which order), results are published by hand.
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { MAX_RUN_INPUT_BYTES, QUEUES, RUN_JOB, RUN_RESULT_JOB, SOCKET_EVENTS, runJobId, runJobSchema, runResultEventSchema, type RunResult, type RunResultEvent } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { createSocketServer, type SocketServer } from "@sonocode/socket-service";
import { eventually } from "@sonocode/testkit";
import { Queue, Worker, type Job } from "bullmq";
import { io as connectClient, type Socket } from "socket.io-client";
import { buildSubmissionApp, createProblemClient, createResultConsumer, type ResultConsumerHandle } from "../src/index.js";
import { JWT_SECRET, bearer, sampleProblem, startHarness, tokenFor, type Harness } from "./harness.js";

let h: Harness;
let consumer: ResultConsumerHandle;
let evaluationQueue: Queue;
let httpServer: HttpServer;
let sockets: SocketServer;
let socketUrl: string;
const clients: Socket[] = [];

async function inboxOf(userId: string): Promise<RunResultEvent[]> {
  const client = connectClient(socketUrl, { auth: { token: await tokenFor(userId) }, transports: ["websocket"], reconnection: false });
  clients.push(client);
  const inbox: RunResultEvent[] = [];
  client.on(SOCKET_EVENTS.runResult, (payload: RunResultEvent) => inbox.push(payload));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("connect_error", reject);
  });
  return inbox;
}

async function postRun(userId: string, body: Record<string, unknown>, role: "user" | "admin" = "user") {
  return h.app.inject({ method: "POST", url: "/api/v1/runs", headers: await bearer(userId, role), payload: { problemId: h.problem._id, language: "python", code: "print(3)", ...body } });
}

function result(run: { _id: string; userId: string }, overrides: Partial<RunResult> = {}): RunResult {
  return {
    runId: run._id,
    userId: run.userId,
    status: "WA",
    compileOutput: null,
    results: [{ index: 0, input: "1 2\n", output: "4\n", expected: "3\n", status: "WA", timeMs: 10, memoryKb: 9_000 }],
    message: null,
    ...overrides,
  };
}

async function settled(job: Job): Promise<string> {
  return eventually(async () => {
    const state = await job.getState();
    return state === "completed" || state === "failed" ? state : null;
  }, `job ${job.id} to settle`);
}

before(async () => {
  h = await startHarness("runs", { limits: { perMinute: 4, maxInFlight: 3 } });
  consumer = createResultConsumer({ store: h.store, redisUrl: h.redisUrl, prefix: h.prefix, logger: silentLogger(), concurrency: 2, runSweep: { autoStart: false } });
  evaluationQueue = new Queue(QUEUES.evaluation, { connection: { url: h.redisUrl }, prefix: h.prefix });
  httpServer = createServer();
  sockets = await createSocketServer(httpServer, { redisUrl: h.redisUrl, prefix: h.prefix, jwtSecret: JWT_SECRET, logger: silentLogger() });
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  socketUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  await consumer.worker.waitUntilReady();
});

after(async () => {
  for (const client of clients) client.disconnect();
  await sockets.close();
  await consumer.close();
  await evaluationQueue.obliterate({ force: true }).catch(() => {});
  await evaluationQueue.close();
  await h.close();
});

describe("POST /api/v1/runs", () => {
  test("202 with { _id, status: Pending }; the job is a SubmissionQueue 'run' job without a priority, carrying no tests", async () => {
    const response = await postRun("ann", {});
    assert.equal(response.statusCode, 202, response.body);
    const run = response.json().data.run;
    assert.deepEqual(Object.keys(run).sort(), ["_id", "status"]);
    assert.equal(run.status, "Pending");

    const job = await h.queue.queue.getJob(runJobId(run._id));
    assert.ok(job);
    assert.equal(job.name, RUN_JOB);
    // No priority: BullMQ's plain wait list, served before every prioritized (submission) job.
    assert.equal(job.opts.priority ?? 0, 0);
    assert.equal(await job.getState(), "waiting");
    const payload = runJobSchema.parse(job.data);
    assert.equal(payload.input, undefined);
    assert.equal(payload.reference, undefined);
    assert.equal(payload.testSet.hash, h.problem.testSet.hash);
    assert.ok(!JSON.stringify(job.data).includes("40 2"), "the job names the tests by hash; the hidden test's input is not in it");

    const stored = await h.store.runs.findById(run._id);
    assert.equal(stored?.userId, "ann");
    // Kept 24 h (the two instants are taken a moment apart).
    assert.ok(Math.abs(Date.parse(stored!.expiresAt) - Date.parse(stored!.createdAt) - 24 * 3_600_000) < 5_000);
  });

  test("a custom input on a problem with a reference solution: the job carries the input and the reference (limits of its language)", async () => {
    const problem = await h.store.problems.create(
      sampleProblem({ title: "with reference", referenceSolution: { language: "PYTHON", code: "print(sum(map(int, input().split())))" }, languageLimits: { PYTHON: { timeLimitMs: 3_000 } } }),
    );
    const response = await postRun("ben", { problemId: problem._id, input: "1 2\n" });
    assert.equal(response.statusCode, 202, response.body);
    const job = await h.queue.queue.getJob(runJobId(response.json().data.run._id));
    const payload = runJobSchema.parse(job?.data);
    assert.equal(payload.input, "1 2\n");
    assert.equal(payload.reference?.language, "PYTHON");
    assert.equal(payload.reference?.timeLimitMs, 3_000);
    assert.match(payload.reference?.source ?? "", /print\(sum/);
    // An edited reference is the one the next run gets (the facts are cached per problem version).
    await h.store.problems.update(problem._id, { referenceSolution: { language: "CPP", code: "int main() { return 0; }" } });
    const edited = await postRun("ben", { problemId: problem._id, input: "1 2\n" });
    assert.equal(runJobSchema.parse((await h.queue.queue.getJob(runJobId(edited.json().data.run._id)))?.data).reference?.language, "CPP");
    // Without an input the reference is not needed, and not sent.
    const visible = await postRun("ben", { problemId: problem._id });
    assert.equal(runJobSchema.parse((await h.queue.queue.getJob(runJobId(visible.json().data.run._id)))?.data).reference, undefined);
  });

  test("bad input is a 400 (over 64 KiB, unstorable text, empty code), unknown problem 404, no token 401", async () => {
    const big = await postRun("cy", { input: "x".repeat(MAX_RUN_INPUT_BYTES + 1) });
    assert.equal(big.statusCode, 400, big.body);
    assert.equal(big.json().error.code, "VALIDATION_FAILED");
    // The largest input beside the largest code fits the body limit, even when JSON doubles it (newlines).
    const full = await postRun("cy", { input: "\n".repeat(MAX_RUN_INPUT_BYTES), code: "\n".repeat(64 * 1024 - 8) + "print(3)" });
    assert.equal(full.statusCode, 202, full.body);
    // Said in the user's terms (was: "... pass it through storableText()", an internal helper).
    for (const input of ["nul\u0000", "lone \ud800 surrogate"]) {
      const refused = await postRun("cy2", { input });
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(refused.json().error.code, "VALIDATION_FAILED");
      assert.deepEqual(refused.json().error.details, [{ in: "body", path: "input", message: "input must not contain a NUL byte (U+0000) or an unpaired surrogate (text a program can read as UTF-8)" }]);
      assert.doesNotMatch(refused.body, /storableText|database/);
    }
    assert.equal((await postRun("cy2", { code: "" })).statusCode, 400);
    const lang = await postRun("cy3", { language: "cobol" });
    assert.equal(lang.statusCode, 400);
    assert.equal(lang.json().error.code, "UNSUPPORTED_LANGUAGE");
    assert.equal((await postRun("cy3", { problemId: "0123456789abcdef01234567" })).statusCode, 404);
    assert.equal((await h.app.inject({ method: "POST", url: "/api/v1/runs", payload: { problemId: h.problem._id, language: "python", code: "x" } })).statusCode, 401);
  });

  test("a problem without visible tests needs an input (400 without, 202 with)", async () => {
    const problem = await h.store.problems.create(sampleProblem({ title: "all hidden", testCases: [{ input: "1\n", output: "1\n", hidden: true }] }));
    const without = await postRun("dee", { problemId: problem._id });
    assert.equal(without.statusCode, 400);
    assert.equal(without.json().error.details.reason, "NO_VISIBLE_TESTS");
    assert.equal((await postRun("dee", { problemId: problem._id, input: "1\n" })).statusCode, 202);
  });

  test("an interactive problem has no runs (400: its program's output is the interactor's business)", async () => {
    const problem = await h.store.problems.create(
      sampleProblem({ title: "guess", interactor: { protocol: "testlib", language: "PYTHON", source: "print(1)" } }),
    );
    const refused = await postRun("dex", { problemId: problem._id, input: "1\n" });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json().error.details.reason, "INTERACTIVE_PROBLEM");
  });

  test("runs count toward the per-user rate limit shared with submissions (429 past it)", async () => {
    const submit = async () => h.app.inject({ method: "POST", url: "/api/v1/submissions", headers: await bearer("eve"), payload: { problemId: h.problem._id, language: "python", code: "print(3)" } });
    assert.equal((await submit()).statusCode, 201);
    assert.equal((await submit()).statusCode, 201);
    assert.equal((await postRun("eve", {})).statusCode, 202);
    // The 4th POST of the minute is the last allowed; the run after it is refused.
    assert.equal((await postRun("eve", { input: "1 2\n" })).statusCode, 429);
    assert.equal((await submit()).statusCode, 429);
    // Admins are exempt.
    for (let i = 0; i < 5; i++) assert.equal((await postRun("root", {}, "admin")).statusCode, 202);
  });

  test("runs and submissions in flight share the per-user in-flight cap", async () => {
    assert.equal((await h.app.inject({ method: "POST", url: "/api/v1/submissions", headers: await bearer("fay"), payload: { problemId: h.problem._id, language: "python", code: "print(3)" } })).statusCode, 201);
    assert.equal((await postRun("fay", {})).statusCode, 202);
    assert.equal((await postRun("fay", {})).statusCode, 202);
    const capped = await postRun("fay", {});
    assert.equal(capped.statusCode, 429);
    assert.equal(capped.json().error.details.limit, "in-flight");
  });
});

describe("GET /api/v1/runs/:id", () => {
  test("the owner and admins read it; anyone else gets 404, as for a run that does not exist", async () => {
    const run = (await postRun("gus", {})).json().data.run;
    const read = async (userId: string, role: "user" | "admin" = "user") => h.app.inject({ method: "GET", url: `/api/v1/runs/${run._id}`, headers: await bearer(userId, role) });
    const own = await read("gus");
    assert.equal(own.statusCode, 200);
    const body = own.json().data;
    assert.equal(body._id, run._id);
    assert.equal(body.status, "Pending");
    assert.equal(body.compileOutput, null);
    assert.deepEqual(body.results, []);
    assert.equal((await read("root", "admin")).statusCode, 200);
    const other = await read("hal");
    assert.equal(other.statusCode, 404);
    const missing = await h.app.inject({ method: "GET", url: "/api/v1/runs/0123456789abcdef01234567", headers: await bearer("gus") });
    assert.equal(missing.statusCode, 404);
    assert.equal(other.json().error.code, missing.json().error.code);
  });

  test("OPTIONS on a known path is 204 with Allow (runs and submissions), without CORS grants; an unknown path is 404", async () => {
    const id = "0123456789abcdef01234567";
    for (const [url, allow] of [
      ["/api/v1/runs", "POST, OPTIONS"],
      [`/api/v1/runs/${id}`, "GET, HEAD, OPTIONS"],
      ["/api/v1/submissions", "GET, HEAD, POST, OPTIONS"],
      ["/api/v1/submission", "POST, OPTIONS"],
      [`/api/v1/submissions/${id}`, "GET, HEAD, OPTIONS"],
    ] as const) {
      const response = await h.app.inject({ method: "OPTIONS", url, headers: { origin: "http://elsewhere.example", "access-control-request-method": "POST" } });
      assert.equal(response.statusCode, 204, `${url}: ${response.body}`);
      assert.equal(response.headers.allow, allow, url);
      assert.equal(response.headers["access-control-allow-origin"], undefined, url);
      assert.equal(response.body, "");
    }
    const unknown = await h.app.inject({ method: "OPTIONS", url: "/api/v1/nothing" });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, "ROUTE_NOT_FOUND");
  });

  test("OpenAPI documents both routes", async () => {
    const doc = (await h.app.inject({ method: "GET", url: "/openapi.json" })).json();
    assert.ok(doc.paths["/api/v1/runs"]?.post);
    assert.ok(doc.paths["/api/v1/runs/{id}"]?.get);
    assert.ok(doc.paths["/api/v1/runs"].post.responses["202"]);
  });
});

describe("runs are served ahead of submissions", () => {
  test("an evaluator takes a run before submissions queued earlier", async () => {
    const other = await startHarness("runs-order", { store: h.store });
    try {
      const submit = async (userId: string) => other.app.inject({ method: "POST", url: "/api/v1/submissions", headers: await bearer(userId), payload: { problemId: other.problem._id, language: "python", code: "print(3)" } });
      for (const user of ["i1", "i2", "i1"]) assert.equal((await submit(user)).statusCode, 201);
      const run = await other.app.inject({ method: "POST", url: "/api/v1/runs", headers: await bearer("i3"), payload: { problemId: other.problem._id, language: "python", code: "print(3)" } });
      assert.equal(run.statusCode, 202);
      const taken: string[] = [];
      const worker = new Worker(QUEUES.submission, async (job) => void taken.push(job.name), { connection: { url: other.redisUrl }, prefix: other.prefix, concurrency: 1 });
      try {
        await eventually(() => taken.length === 4, "four jobs taken");
      } finally {
        await worker.close();
      }
      assert.deepEqual(taken, [RUN_JOB, "evaluate", "evaluate", "evaluate"]);
    } finally {
      await other.close();
    }
  });
});

describe("run results", () => {
  test("a result finalizes the run once and reaches only its owner's tabs as run:result (without its texts); GET agrees and has them", async () => {
    const [tab1, tab2, stranger] = await Promise.all([inboxOf("jo"), inboxOf("jo"), inboxOf("kim")]);
    const run = await h.store.runs.create({ userId: "jo", problemId: h.problem._id, language: "PYTHON", deadlineAt: new Date(Date.now() + 60_000).toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal(await settled(await evaluationQueue.add(RUN_RESULT_JOB, result(run))), "completed");
    await eventually(() => tab1.length === 1 && tab2.length === 1, "run:result on both tabs");
    assert.equal(tab1[0]!.status, "WA");
    assert.deepEqual(tab1[0]!.results, [{ index: 0, status: "WA", timeMs: 10, memoryKb: 9_000 }], "per test: status and figures, no input, output or expected");
    assert.equal("compileOutput" in tab1[0]!, false);
    assert.deepEqual(runResultEventSchema.parse(tab1[0]), tab1[0], "the event is what the contract allows");
    // The texts come from the read: the event is the read minus them.
    const read = await h.app.inject({ method: "GET", url: `/api/v1/runs/${run._id}`, headers: await bearer("jo") });
    const { compileOutput, results, ...fields } = read.json().data;
    assert.equal(compileOutput, null);
    assert.deepEqual(results, result(run).results);
    assert.deepEqual({ ...fields, results: results.map(({ input: _i, output: _o, expected: _e, ...kept }: Record<string, unknown>) => kept) }, tab1[0]);

    // A replayed (or late) result changes nothing.
    assert.equal(await settled(await evaluationQueue.add(RUN_RESULT_JOB, result(run, { status: "Success" }))), "completed");
    assert.equal((await h.store.runs.findById(run._id))?.status, "WA");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(stranger.length, 0);
  });

  test("a malformed result still ends the run, as IE", async () => {
    const run = await h.store.runs.create({ userId: "lu", problemId: h.problem._id, language: "PYTHON", deadlineAt: new Date(Date.now() + 60_000).toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    await settled(await evaluationQueue.add(RUN_RESULT_JOB, { ...result(run), status: "Pending" }));
    const stored = await h.store.runs.findById(run._id);
    assert.equal(stored?.status, "IE");
    assert.match(stored?.message ?? "", /malformed/);
  });
});

describe("run lifetime", () => {
  test("a run whose job is lost ends IE at its deadline (run:result to the owner); a late result is ignored; expired runs are deleted", async () => {
    const shortLived = await buildSubmissionApp({
      store: h.store,
      problems: createProblemClient({ baseUrl: h.problemServiceUrl, jwtSecret: JWT_SECRET }),
      submissionQueue: h.queue.queue,
      jwtSecret: JWT_SECRET,
      logger: silentLogger(),
      limits: { perMinute: 0, maxInFlight: 0 },
      runDeadlineMs: 100,
    });
    try {
      const inbox = await inboxOf("max");
      const posted = await shortLived.inject({ method: "POST", url: "/api/v1/runs", headers: await bearer("max"), payload: { problemId: h.problem._id, language: "python", code: "print(3)" } });
      assert.equal(posted.statusCode, 202);
      const runId: string = posted.json().data.run._id;
      // No evaluator takes it (as if the one that had it crashed for good).
      await new Promise((resolve) => setTimeout(resolve, 200));
      const swept = await consumer.runSweeper.runOnce();
      assert.ok(swept.failed >= 1);
      // Given up by queuing its IE as the run's result: the consumer writes it.
      const stored = await eventually(async () => {
        const row = await h.store.runs.findById(runId);
        return row?.status === "IE" ? row : null;
      }, "the run's IE written");
      assert.match(stored?.message ?? "", /did not finish in time/);
      await eventually(() => inbox.find((run) => run._id === runId && run.status === "IE"), "the IE run:result");

      await settled(await evaluationQueue.add(RUN_RESULT_JOB, result({ _id: runId, userId: "max" }, { status: "Success" })));
      assert.equal((await h.store.runs.findById(runId))?.status, "IE");

      const old = await h.store.runs.create({ userId: "max", problemId: h.problem._id, language: "PYTHON", deadlineAt: new Date(Date.now() - 2_000).toISOString(), expiresAt: new Date(Date.now() - 1_000).toISOString() });
      assert.ok((await consumer.runSweeper.runOnce()).deleted >= 1);
      assert.equal(await h.store.runs.findById(old._id), null);
    } finally {
      await shortLived.close();
    }
  });
});
