// A progress event never reaches a tab after the final event of the same submission: not when a
// progress emit is late (its database write came just before the final one), and not when a
// burst of progress jobs and the result are consumed concurrently. Real Redis, real PGlite,
// the real socket-service and socket.io-client.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { EVALUATION_JOBS, QUEUES, SOCKET_EVENTS, type EvaluationResult, type Submission } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { createSocketServer, type SocketServer } from "@sonocode/socket-service";
import { eventually } from "@sonocode/testkit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { io as connectClient, type Socket } from "socket.io-client";
import { createResultConsumer, type ResultConsumerHandle } from "../src/index.js";
import { createSubmissionNotifier } from "../src/notifications/submission.notifier.js";
import { JWT_SECRET, startHarness, tokenFor, type Harness } from "./harness.js";

let h: Harness;
let consumer: ResultConsumerHandle;
let evaluationQueue: Queue;
let httpServer: HttpServer;
let sockets: SocketServer;
let socketUrl: string;
let redis: Redis;
const clients: Socket[] = [];

/** Every event one tab received, in arrival order. */
async function tabOf(userId: string): Promise<Array<{ event: string; id: string }>> {
  const client = connectClient(socketUrl, { auth: { token: await tokenFor(userId) }, transports: ["websocket"], reconnection: false });
  clients.push(client);
  const arrivals: Array<{ event: string; id: string }> = [];
  client.on(SOCKET_EVENTS.progress, (payload: { submissionId: string }) => arrivals.push({ event: "progress", id: payload.submissionId }));
  client.on(SOCKET_EVENTS.result, (payload: { _id: string }) => arrivals.push({ event: "final", id: payload._id }));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("connect_error", reject);
  });
  return arrivals;
}

function verdict(submission: Submission): EvaluationResult {
  return {
    submissionId: submission._id,
    userId: submission.userId,
    status: "Success",
    passed: 2,
    total: 2,
    timeMs: 3,
    memoryKb: 1_000,
    results: [
      { index: 0, status: "Success", timeMs: 3, memoryKb: 1_000 },
      { index: 1, status: "Success", timeMs: 2, memoryKb: 1_000 },
    ],
    compileOutput: null,
    failedTest: null,
    message: null,
  };
}

before(async () => {
  h = await startHarness("progress-order");
  consumer = createResultConsumer({ store: h.store, redisUrl: h.redisUrl, prefix: h.prefix, logger: silentLogger(), concurrency: 8 });
  evaluationQueue = new Queue(QUEUES.evaluation, { connection: { url: h.redisUrl }, prefix: h.prefix });
  redis = new Redis(h.redisUrl);
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
  await redis.quit();
  await h.close();
});

test("a progress emit that comes after the final one is not delivered; one before it is", async () => {
  const notifier = createSubmissionNotifier(redis, h.prefix);
  const tab = await tabOf("fay");
  const submission = await h.store.submissions.create({ userId: "fay", problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 });
  // As a consumer slot would, with the database write done: Running 1/2.
  const running = await h.store.submissions.markRunning(submission._id, { passed: 1, total: 2 });
  assert.ok(running);
  await notifier.progress(running);
  const { submissionId: _id, userId: _owner, ...fields } = verdict(submission);
  const final = await h.store.submissions.finalize(submission._id, fields);
  assert.ok(final?.applied);
  await notifier.final(final.submission, { replay: false });
  // The late one: its write preceded the final write, its emit comes after the final emit.
  await notifier.progress(running);
  await eventually(() => tab.some((arrival) => arrival.event === "final"), "the final event");
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.deepEqual(tab, [
    { event: "progress", id: submission._id },
    { event: "final", id: submission._id },
  ]);
});

test("progress and results consumed concurrently: on every tab, nothing of a submission after its final event", async () => {
  const tabs = await Promise.all([tabOf("gus"), tabOf("gus")]);
  const submissions = await Promise.all(
    Array.from({ length: 20 }, () => h.store.submissions.create({ userId: "gus", problemId: h.problem._id, language: "PYTHON", code: "print(3)", total: 2 })),
  );
  // As an evaluator without coalescing would queue them: progress, progress, result (8 consumer slots race them).
  await evaluationQueue.addBulk(
    submissions.flatMap((submission) => [
      { name: EVALUATION_JOBS.progress, data: { submissionId: submission._id, userId: "gus", status: "Running", passed: 0, total: 2 } },
      { name: EVALUATION_JOBS.progress, data: { submissionId: submission._id, userId: "gus", status: "Running", passed: 1, total: 2 } },
      { name: EVALUATION_JOBS.result, data: verdict(submission) },
    ]),
  );
  await eventually(() => tabs.every((tab) => tab.filter((arrival) => arrival.event === "final").length === submissions.length), "every final event on both tabs", 30_000);
  await new Promise((resolve) => setTimeout(resolve, 400));
  for (const tab of tabs) {
    for (const submission of submissions) {
      const mine = tab.filter((arrival) => arrival.id === submission._id);
      assert.equal(mine.filter((arrival) => arrival.event === "final").length, 1, "one final event");
      assert.equal(mine.at(-1)?.event, "final", `nothing after the final event of ${submission._id}: ${JSON.stringify(mine)}`);
    }
  }
});
