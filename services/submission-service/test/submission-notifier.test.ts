// The user-events side of the notifier on a real Redis: each event is one round trip (one
// script), appended to the stream the socket-services read, with the progress gate closed and
// the "went out" mark set in the same script; progress never lands after the final event; a
// replay whose mark exists appends nothing; old entries are trimmed by the appends.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DEFAULT_MAX_CODE_BYTES, RUN_TEXT_CAP_BYTES, SOCKET_EVENTS, runResultEventSchema, socketResultPayloadSchema, userEventEntrySchema, userEventsStreamKey, type Run, type Submission } from "@sonocode/contracts";
import { eventually, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { Redis } from "ioredis";
import { createSubmissionNotifier } from "../src/notifications/submission.notifier.js";
import { createRunNotifier } from "../src/notifications/run.notifier.js";

const prefix = uniqueName("notifier");
const stream = userEventsStreamKey(prefix);
let redis: Redis;
let monitorSource: Redis;
let monitor: Redis;
/** Commands our notifier's connection sent, in the order Redis ran them. */
const commands: string[][] = [];

/** The stream's entries for one submission or run id, in order: [event, payload]. */
async function entriesFor(id: string): Promise<Array<[string, { _id?: string; submissionId?: string; passed?: number }]>> {
  const entries = (await redis.xrange(stream, "-", "+")) as Array<[string, string[]]>;
  return entries
    .map(([, fields]) => {
      const record: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
      const entry = userEventEntrySchema.parse(record);
      return [entry.event, JSON.parse(entry.data)] as [string, { _id?: string; submissionId?: string; passed?: number }];
    })
    .filter(([, payload]) => payload._id === id || payload.submissionId === id);
}

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
});

after(async () => {
  monitor.disconnect();
  monitorSource.disconnect();
  await redis.quit();
});

test("the final event is one script: gate closed, appended for the stored owner, marked", async () => {
  const notifier = createSubmissionNotifier(redis, prefix);
  const id = "6b0fb84e628954100bdcfb01";
  // Warm-up: on a server that does not know the script yet the first append also sends its text
  // (EVALSHA → NOSCRIPT → EVAL; lua-script.test checks that on a server of its own). This server
  // is shared with other test files, which may have loaded the script already, so the warm-up
  // only waits until its commands have passed MONITOR.
  assert.equal(await notifier.final(submission("6b0fb84e628954100bdcfb0f"), { replay: false }), "emitted");
  await redis.ping();
  await eventually(() => commands.some((c) => c[0] === "ping"), "the ping to show in MONITOR", 5_000);
  commands.length = 0;
  assert.equal(await notifier.final(submission(id), { replay: false }), "emitted");
  await eventually(() => commands.length >= 1, "the script to show in MONITOR", 5_000);
  await redis.ping();
  await eventually(() => commands.some((c) => c[0] === "ping"), "the ping to show in MONITOR", 5_000);
  assert.deepEqual(commands.map((c) => c[0]), ["evalsha", "ping"], "one round trip, the script by its SHA");
  const entries = await entriesFor(id);
  assert.deepEqual(entries.map(([event]) => event), [SOCKET_EVENTS.result]);
  assert.equal(entries[0]![1]._id, id);
  const [first] = (await redis.xrange(stream, "-", "+", "COUNT", 1)) as Array<[string, string[]]>;
  const fields = first?.[1] ?? [];
  assert.equal(fields[fields.indexOf("user") + 1], "ida");
  assert.equal(await redis.exists(`${prefix}:final-gate:${id}`, `${prefix}:notified:${id}`), 2);
});

test("progress is appended before the final event and never after it", async () => {
  const notifier = createSubmissionNotifier(redis, prefix);
  const id = "6b0fb84e628954100bdcfb04";
  await notifier.progress({ ...submission(id), status: "Running", passed: 1, total: 3 });
  await notifier.final(submission(id), { replay: false });
  // A progress write that lost the race with the final one: gated out.
  await notifier.progress({ ...submission(id), status: "Running", passed: 2, total: 3 });
  assert.deepEqual(
    (await entriesFor(id)).map(([event, payload]) => `${event}${payload.passed === undefined ? "" : ` ${payload.passed}`}`),
    [`${SOCKET_EVENTS.progress} 1`, `${SOCKET_EVENTS.result} 1`],
  );
});

test("a replayed result whose event already went out appends nothing; one whose mark is missing appends", async () => {
  const notifier = createSubmissionNotifier(redis, prefix);
  const id = "6b0fb84e628954100bdcfb02";
  assert.equal(await notifier.final(submission(id), { replay: false }), "emitted");
  assert.equal(await notifier.final(submission(id), { replay: true }), "already-emitted");
  assert.equal((await entriesFor(id)).length, 1, "no event for the replay that had gone out already");
  // A replay without a mark (the process died before the script ran) appends again.
  const lost = "6b0fb84e628954100bdcfb03";
  assert.equal(await notifier.final(submission(lost), { replay: true }), "emitted");
  assert.equal((await entriesFor(lost)).length, 1);
});

test("the final event carries the submission without its code: a few KB at the code cap", async () => {
  const notifier = createSubmissionNotifier(redis, prefix);
  const id = "6b0fb84e628954100bdcfb06";
  // Control bytes: 6 bytes each as JSON, the worst case of what the entry used to carry (~390 KB).
  const whole = { ...submission(id), code: "\u0001".repeat(DEFAULT_MAX_CODE_BYTES) };
  await notifier.final(whole, { replay: false });
  const entries = (await redis.xrange(stream, "-", "+")) as Array<[string, string[]]>;
  const mine = entries.map(([, fields]) => fields[fields.indexOf("data") + 1]!).filter((data) => data.includes(id));
  assert.equal(mine.length, 1);
  const payload = JSON.parse(mine[0]!) as Record<string, unknown>;
  assert.equal("code" in payload, false);
  const { code: _code, ...rest } = whole;
  assert.deepEqual(socketResultPayloadSchema.parse(payload), rest, "everything else of the stored submission");
  assert.ok(Buffer.byteLength(mine[0]!) < 2_000, `entry of ${Buffer.byteLength(mine[0]!)} bytes`);
  // The contract refuses a payload with code, so no producer can put it back unnoticed.
  assert.equal(socketResultPayloadSchema.safeParse(whole).success, false);
});

test("a run's result is appended for its owner", async () => {
  const runId = "6b0fb84e628954100bdcfb05";
  const now = new Date().toISOString();
  const run: Run = {
    _id: runId,
    userId: "ida",
    problemId: "6b0fb84e628954100bdcfbe7",
    language: "C",
    status: "Success",
    compileOutput: null,
    results: [],
    message: null,
    deadlineAt: now,
    expiresAt: now,
    createdAt: now,
    updatedAt: now,
  };
  await createRunNotifier(redis, prefix).final(run);
  assert.deepEqual((await entriesFor(runId)).map(([event]) => event), [SOCKET_EVENTS.runResult]);
});

test("run:result carries the run without its texts: a few KB for a run of 10 tests with 64 KiB texts", async () => {
  const runId = "6b0fb84e628954100bdcfb07";
  const now = new Date().toISOString();
  // Texts at the cap; the output of control bytes (6 bytes each as JSON) is the worst case: this
  // run was one entry of ~5 MB.
  const run: Run = {
    _id: runId,
    userId: "ida",
    problemId: "6b0fb84e628954100bdcfbe7",
    language: "C",
    status: "WA",
    compileOutput: "w".repeat(RUN_TEXT_CAP_BYTES),
    results: Array.from({ length: 10 }, (_, index) => ({
      index,
      input: "x".repeat(RUN_TEXT_CAP_BYTES),
      output: "\u0001".repeat(RUN_TEXT_CAP_BYTES),
      expected: index === 9 ? null : "y".repeat(RUN_TEXT_CAP_BYTES),
      status: index === 3 ? ("WA" as const) : ("Success" as const),
      timeMs: 10 + index,
      memoryKb: 9_000,
      ...(index === 3 ? { checkerMessage: "wrong answer 1st numbers differ" } : {}),
    })),
    message: null,
    deadlineAt: now,
    expiresAt: now,
    createdAt: now,
    updatedAt: now,
  };
  assert.equal(await createRunNotifier(redis, prefix).final(run), "emitted");
  const entries = (await redis.xrange(stream, "-", "+")) as Array<[string, string[]]>;
  const mine = entries.filter(([, fields]) => fields[fields.indexOf("data") + 1]!.includes(runId));
  assert.equal(mine.length, 1);
  const fields = mine[0]![1];
  const entryBytes = fields.reduce((sum, field) => sum + Buffer.byteLength(field), 0);
  assert.ok(entryBytes < 4_000, `entry of ${entryBytes} bytes`);
  const payload = JSON.parse(fields[fields.indexOf("data") + 1]!) as Record<string, unknown>;
  assert.equal("compileOutput" in payload, false);
  for (const test of payload.results as Array<Record<string, unknown>>) for (const text of ["input", "output", "expected"]) assert.equal(text in test, false, `no ${text}`);
  // Everything else of the stored run: ids, status, message, per test status, figures, checker message.
  const { compileOutput: _compileOutput, ...rest } = run;
  assert.deepEqual(runResultEventSchema.parse(payload), {
    ...rest,
    results: run.results.map(({ index, status, timeMs, memoryKb, checkerMessage }) => ({ index, status, timeMs, memoryKb, ...(checkerMessage === undefined ? {} : { checkerMessage }) })),
  });
  // The contract refuses a payload with texts, so no producer can put them back unnoticed.
  assert.equal(runResultEventSchema.safeParse(run).success, false);
  assert.equal(runResultEventSchema.safeParse({ ...payload, results: [{ index: 0, status: "Success", timeMs: 1, memoryKb: 1, output: "3\n" }] }).success, false, "one text is enough to refuse it");
});

test("entries older than the retention window are trimmed by later appends", async () => {
  const old = uniqueName("notifier-trim");
  const oldStream = userEventsStreamKey(old);
  // 300 entries from 1970: whole stream nodes (100 entries each) older than the window.
  for (let i = 1; i <= 300; i += 1) await redis.xadd(oldStream, `1-${i}`, "user", "ida", "event", SOCKET_EVENTS.progress, "data", "{}");
  await createSubmissionNotifier(redis, old).final(submission("6b0fb84e628954100bdcfb06"), { replay: false });
  const left = await redis.xlen(oldStream);
  assert.ok(left < 200, `old entries trimmed (${left} left of 301)`);
  await redis.del(oldStream);
});
