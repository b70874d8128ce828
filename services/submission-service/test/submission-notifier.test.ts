// The final event's Redis side, watched with MONITOR on a real Redis: one round trip, one
// transaction in which the progress gate closes before the publish and the "went out" mark is
// set after it; a replay whose mark exists publishes nothing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { socketIoKey, type Submission } from "@sonocode/contracts";
import { eventually, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { Redis } from "ioredis";
import { createSubmissionNotifier } from "../src/notifications/submission.notifier.js";

const prefix = uniqueName("notifier");
let redis: Redis;
let monitorSource: Redis;
let monitor: Redis;
let subscriber: Redis;
/** Commands our notifier's connection sent, in the order Redis ran them. */
const commands: string[][] = [];
const published: string[] = [];

function submission(id: string): Submission {
  const now = new Date().toISOString();
  return {
    _id: id,
    userId: "ida",
    problemId: "6b0fb84e628954100bdcfbe7",
    language: "C",
    code: "int main(){}",
    status: "Success",
    passed: 1,
    total: 1,
    timeMs: 1,
    memoryKb: 100,
    results: [{ index: 0, status: "Success", timeMs: 1, memoryKb: 100 }],
    compileOutput: null,
    failedTest: null,
    message: null,
    createdAt: now,
    updatedAt: now,
  };
}

before(async () => {
  redis = new Redis(testRedisUrl());
  await redis.ping();
  const ours = `127.0.0.1:${redis.stream.localPort}`;
  // monitor() opens a connection of its own: both are closed after the tests.
  monitorSource = new Redis(testRedisUrl());
  monitor = await monitorSource.monitor();
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (source === ours) commands.push(args.map((arg, i) => (i === 0 ? arg.toLowerCase() : arg)));
  });
  subscriber = new Redis(testRedisUrl());
  await subscriber.psubscribe(`${socketIoKey(prefix)}*`);
  subscriber.on("pmessageBuffer", (_pattern: Buffer, channel: Buffer) => published.push(channel.toString()));
});

after(async () => {
  monitor.disconnect();
  monitorSource.disconnect();
  await subscriber.quit();
  await redis.quit();
});

test("the final event is one transaction: gate, publish, mark, in that order", async () => {
  const notifier = createSubmissionNotifier(redis, prefix);
  const id = "6b0fb84e628954100bdcfb01";
  commands.length = 0;
  assert.equal(await notifier.final(submission(id), { replay: false }), "emitted");
  await eventually(() => commands.some((c) => c[0] === "exec"), "the transaction to show in MONITOR", 5_000);
  assert.deepEqual(
    commands.map((c) => (c[0] === "set" ? `set ${c[1]}` : c[0])),
    ["multi", `set ${prefix}:final-gate:${id}`, "publish", `set ${prefix}:notified:${id}`, "exec"],
  );
  await eventually(() => published.length === 1, "the event on the adapter's channel", 5_000);
  assert.match(published[0]!, /user:ida/);
  assert.equal(await redis.exists(`${prefix}:final-gate:${id}`, `${prefix}:notified:${id}`), 2);
});

test("a replayed result whose event already went out publishes nothing", async () => {
  const notifier = createSubmissionNotifier(redis, prefix);
  const id = "6b0fb84e628954100bdcfb02";
  assert.equal(await notifier.final(submission(id), { replay: false }), "emitted");
  await eventually(() => published.length === 2, "the first final event", 5_000);
  assert.equal(await notifier.final(submission(id), { replay: true }), "already-emitted");
  // A replay without a mark (the process died before the transaction ran) emits again.
  const lost = "6b0fb84e628954100bdcfb03";
  assert.equal(await notifier.final(submission(lost), { replay: true }), "emitted");
  await eventually(() => published.length === 3, "the replay's event", 5_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(published.length, 3, "no event for the replay that had gone out already");
});
