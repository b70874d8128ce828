// The result consumer through real boundaries: BullMQ on real Redis, the real PGlite
// store, and notifications received by socket.io-client from the real socket-service
// (Socket.IO + @socket.io/redis-adapter), which proves the emitter key matches.
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  EVALUATION_JOBS,
  QUEUES,
  SOCKET_EVENTS,
  type EvaluationResult,
  type ProgressEvent,
  type Submission,
} from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { createSocketServer, type SocketServer } from "@sonocode/socket-service";
import { eventually } from "@sonocode/testkit";
import { Queue, type Job } from "bullmq";
import { io as connectClient, type Socket } from "socket.io-client";
import { createResultConsumer, type ResultConsumerHandle } from "../src/index.js";
import { JWT_SECRET, bearer, startHarness, tokenFor, type Harness } from "./harness.js";

let h: Harness;
let consumer: ResultConsumerHandle;
let evaluationQueue: Queue;
let httpServer: HttpServer;
let sockets: SocketServer;
let socketUrl: string;
const clients: Socket[] = [];

interface Inbox {
  progress: unknown[];
  results: unknown[];
}

async function connectAs(userId: string): Promise<Inbox> {
  const client = connectClient(socketUrl, { auth: { token: await tokenFor(userId) }, transports: ["websocket"], reconnection: false });
  clients.push(client);
  const inbox: Inbox = { progress: [], results: [] };
  client.on(SOCKET_EVENTS.progress, (payload: unknown) => inbox.progress.push(payload));
  client.on(SOCKET_EVENTS.result, (payload: unknown) => inbox.results.push(payload));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("connect_error", reject);
  });
  return inbox;
}

async function createPending(userId: string): Promise<Submission> {
  return h.store.submissions.create({ userId, problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 });
}

async function settled(job: Job): Promise<{ state: string; job: Job }> {
  return eventually(async () => {
    const state = await job.getState();
    if (state !== "completed" && state !== "failed") return null;
    const fresh = await evaluationQueue.getJob(job.id ?? "");
    assert.ok(fresh);
    return { state, job: fresh };
  }, `job ${job.id} to settle`);
}

function verdict(submissionId: string, userId: string, overrides: Partial<EvaluationResult> = {}): EvaluationResult {
  return {
    submissionId,
    userId,
    status: "Success",
    passed: 2,
    total: 2,
    timeMs: 12,
    memoryKb: 9_000,
    results: [
      { index: 0, status: "Success", timeMs: 10, memoryKb: 9_000 },
      { index: 1, status: "Success", timeMs: 12, memoryKb: 8_000 },
    ],
    compileOutput: null,
    failedTest: null,
    message: null,
    ...overrides,
  };
}

/** Time for a notification that should not come to have arrived if it were sent. */
const QUIET_MS = 400;

before(async () => {
  h = await startHarness("results");
  consumer = createResultConsumer({ store: h.store, redisUrl: h.redisUrl, prefix: h.prefix, logger: silentLogger(), concurrency: 2 });
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

describe("results consumer", () => {
  test("progress: Pending -> Running and the owner's sockets (every tab) get submission:progress; others get nothing", async () => {
    const submission = await createPending("ann");
    const [tab1, tab2, stranger] = await Promise.all([connectAs("ann"), connectAs("ann"), connectAs("bystander")]);
    const progress: ProgressEvent = { submissionId: submission._id, userId: "ann", status: "Running", passed: 1, total: 2 };
    const job = await evaluationQueue.add(EVALUATION_JOBS.progress, progress);
    const { state } = await settled(job);
    assert.equal(state, "completed");

    const stored = await h.store.submissions.findById(submission._id);
    assert.equal(stored?.status, "Running");
    assert.equal(stored?.passed, 1);

    const expected = { submissionId: submission._id, status: "Running", passed: 1, total: 2 };
    await eventually(() => tab1.progress.length > 0 && tab2.progress.length > 0, "progress on both tabs");
    assert.deepEqual(tab1.progress, [expected]);
    assert.deepEqual(tab2.progress, [expected]);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.deepEqual(stranger.progress, []);
  });

  test("result: final state written and the stored submission (without its code) emitted as submissionPayloadResponse", async () => {
    const submission = await createPending("ben");
    const inbox = await connectAs("ben");
    const job = await evaluationQueue.add(EVALUATION_JOBS.result, verdict(submission._id, "ben"));
    const { state, job: done } = await settled(job);
    assert.equal(state, "completed");
    assert.equal(done.returnvalue, "finalized");

    const read = await h.app.inject({ method: "GET", url: `/api/v1/submissions/${submission._id}`, headers: await bearer("ben") });
    assert.equal(read.statusCode, 200);
    const data = read.json().data;
    assert.equal(data.status, "Success");
    assert.equal(data.passed, 2);
    assert.equal(data.results.length, 2);

    await eventually(() => inbox.results.length > 0, "result notification");
    // The event carries the stored submission GET /api/v1/submissions/:id returns, without its
    // code (the submitter has it) and without the percentile, computed on each read (it changes
    // as others are accepted), never pushed.
    const { percentile, code, ...stored } = data;
    assert.ok(percentile, "an accepted submission's read has its percentile");
    assert.equal(code, "print(3)", "the read has the code");
    assert.deepEqual(inbox.results, [stored]);
  });

  test("a replayed or conflicting result does not regress the verdict and is not re-emitted; late progress is ignored", async () => {
    const submission = await createPending("cat");
    const inbox = await connectAs("cat");
    const wa = verdict(submission._id, "cat", {
      status: "WA",
      passed: 0,
      results: [{ index: 0, status: "WA", timeMs: 3, memoryKb: 100 }],
      failedTest: { index: 0, input: "1 2\n", expected: "3\n", actual: "4\n" },
    });
    await settled(await evaluationQueue.add(EVALUATION_JOBS.result, wa));
    await eventually(() => inbox.results.length === 1, "first result notification");
    const final = await h.store.submissions.findById(submission._id);

    const replay = await settled(await evaluationQueue.add(EVALUATION_JOBS.result, wa));
    assert.equal(replay.state, "completed");
    assert.equal(replay.job.returnvalue, "replayed");
    const conflicting = await settled(await evaluationQueue.add(EVALUATION_JOBS.result, verdict(submission._id, "cat")));
    assert.equal(conflicting.job.returnvalue, "replayed");
    const late = await settled(
      await evaluationQueue.add(EVALUATION_JOBS.progress, { submissionId: submission._id, userId: "cat", status: "Running", passed: 2, total: 2 }),
    );
    assert.equal(late.job.returnvalue, "ignored");

    assert.deepEqual(await h.store.submissions.findById(submission._id), final);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.equal(inbox.results.length, 1);
    assert.deepEqual(inbox.progress, []);
  });

  test("a result for an unknown submission is dropped, not retried", async () => {
    const job = await evaluationQueue.add(EVALUATION_JOBS.result, verdict("0123456789abcdef01234567", "ghost"), { attempts: 3 });
    const { state, job: done } = await settled(job);
    assert.equal(state, "completed");
    assert.equal(done.returnvalue, "dropped");
    assert.equal(await h.store.submissions.findById("0123456789abcdef01234567"), null);
  });

  test("an ownerless invalid payload or unknown job name fails at once (UnrecoverableError), without retries", async () => {
    const submission = await createPending("dan");
    for (const [name, data] of [
      [EVALUATION_JOBS.result, { submissionId: "not-an-id", status: "Success" }],
      [EVALUATION_JOBS.progress, { submissionId: "not-an-id", userId: "dan", status: "Running", passed: 0, total: 1 }],
      [EVALUATION_JOBS.progress, { submissionId: submission._id, userId: "dan", status: "Success", passed: 0, total: 1 }],
      ["mystery", { submissionId: submission._id }],
    ] as const) {
      const { state, job } = await settled(await evaluationQueue.add(name, data, { attempts: 3, backoff: { type: "fixed", delay: 10 } }));
      assert.equal(state, "failed", `${name} ${JSON.stringify(data)}`);
      assert.equal(job.attemptsMade, 1, "not retried");
    }
    const untouched = await h.store.submissions.findById(submission._id);
    assert.equal(untouched?.status, "Pending");
  });

  test("a malformed result that names its submission makes it IE (never left non-final), with the final event", async () => {
    const submission = await createPending("eve");
    const inbox = await connectAs("eve");
    for (const data of [{ submissionId: submission._id, status: "Success", total: 2 }]) {
      const { state, job } = await settled(await evaluationQueue.add(EVALUATION_JOBS.result, data, { attempts: 3 }));
      assert.equal(state, "completed");
      assert.equal(job.returnvalue, "refused");
    }
    const stored = await h.store.submissions.findById(submission._id);
    assert.equal(stored?.status, "IE");
    assert.equal(stored?.total, 2);
    assert.match(stored?.message ?? "", /report was malformed/);
    await eventually(() => inbox.results.length === 1, "IE notification");
    assert.equal((inbox.results[0] as Submission).status, "IE");
  });

  test("a verdict the store refuses (a time PostgreSQL's integer column cannot hold) becomes IE with a clear message, not a dropped job", async () => {
    const submission = await createPending("fay");
    const inbox = await connectAs("fay");
    const refused = verdict(submission._id, "fay", { timeMs: 3_000_000_000 });
    const { state, job } = await settled(await evaluationQueue.add(EVALUATION_JOBS.result, refused, { attempts: 3 }));
    assert.equal(state, "completed");
    assert.equal(job.returnvalue, "refused");
    assert.equal(job.attemptsStarted, 1, "not retried: retrying cannot make the store accept it");
    const stored = await h.store.submissions.findById(submission._id);
    assert.equal(stored?.status, "IE");
    assert.match(stored?.message ?? "", /verdict could not be stored/);
    assert.equal(stored?.timeMs, null);
    await eventually(() => inbox.results.length === 1, "IE notification");
  });

  test("replay of a result whose write landed but whose emit never happened (consumer died in between) emits the final event, once", async () => {
    const submission = await createPending("gus");
    const inbox = await connectAs("gus");
    const { submissionId: _id, userId: _u, ...fields } = verdict(submission._id, "gus");
    // The write of a consumer that then died: final in the database, nothing emitted.
    const written = await h.store.submissions.finalize(submission._id, fields);
    assert.equal(written?.applied, true);

    const replay = await settled(await evaluationQueue.add(EVALUATION_JOBS.result, verdict(submission._id, "gus")));
    assert.equal(replay.job.returnvalue, "replayed");
    await eventually(() => inbox.results.length === 1, "final event on replay");
    const { code: _code, ...stored } = (await h.store.submissions.findById(submission._id))!;
    assert.deepEqual(inbox.results[0], stored);

    // A second replay finds the emit recorded: clients would dedupe anyway, but nothing is sent twice.
    const again = await settled(await evaluationQueue.add(EVALUATION_JOBS.result, verdict(submission._id, "gus")));
    assert.equal(again.job.returnvalue, "replayed");
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.equal(inbox.results.length, 1);
  });
});
