// Delivery through rooms: the submission-service appends events for user <id> to the
// user-events stream; every tab of that user, on any instance, gets each exactly once, also
// when an instance's link to Redis was cut meanwhile; nobody else gets it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { signToken } from "@sonocode/auth";
import { SOCKET_EVENTS, userEventsStreamKey, userRoom, type ServerToClientEvents, type SocketProgressPayload } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { eventually, listen, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createSocketService, type SocketService } from "../src/index.js";
import { connect, sleep, type ClientSocket } from "./helpers.js";

const secret = "socket-delivery-test-secret-0123456789abc";
const prefix = uniqueName("sock-delivery");
let instanceA: SocketService;
let instanceB: SocketService;
let urlA: string;
let urlB: string;
let emitterRedis: Redis;
const sockets: ClientSocket[] = [];

const submissionId = "0123456789abcdef01234567";

function progress(passed: number): SocketProgressPayload {
  return { submissionId, status: "Running", passed, total: 3 };
}

/** Connects as `sub` and records every progress payload the socket receives. */
async function tab(url: string, sub: string, extra: Parameters<typeof connect>[1] = {}): Promise<{ socket: ClientSocket; received: SocketProgressPayload[] }> {
  const token = await signToken({ sub, role: "user" }, secret);
  const socket = await connect(url, { ...extra, auth: { ...(extra.auth ?? {}), token } });
  sockets.push(socket);
  const received: SocketProgressPayload[] = [];
  socket.on(SOCKET_EVENTS.progress, (payload) => received.push(payload));
  return { socket, received };
}

before(async () => {
  // Two instances on one Redis and one prefix, as in a scaled-out deployment.
  instanceA = await createSocketService({ redisUrl: testRedisUrl(), prefix, jwtSecret: secret, logger: silentLogger() });
  instanceB = await createSocketService({ redisUrl: testRedisUrl(), prefix, jwtSecret: secret, logger: silentLogger() });
  urlA = await listen(instanceA.httpServer);
  urlB = await listen(instanceB.httpServer);
  emitterRedis = new Redis(testRedisUrl());
});

/** An entry as the submission-service appends it (contracts: userEventEntrySchema). */
async function append<E extends keyof ServerToClientEvents>(userId: string, event: E, payload: Parameters<ServerToClientEvents[E]>[0]): Promise<void> {
  await emitterRedis.xadd(userEventsStreamKey(prefix), "*", "user", userId, "event", event, "data", JSON.stringify(payload));
}

after(async () => {
  for (const socket of sockets) socket.close();
  await instanceA.close();
  await instanceB.close();
  await emitterRedis.quit();
});

test("two tabs of one user both receive an appended event; another user does not", async () => {
  const tab1 = await tab(urlA, "alice-1");
  const tab2 = await tab(urlA, "alice-1");
  const bob = await tab(urlA, "bob-1");

  await append("alice-1", SOCKET_EVENTS.progress, progress(1));

  await eventually(() => tab1.received.length === 1 && tab2.received.length === 1, "both tabs to receive the event", 5_000);
  assert.deepEqual(tab1.received[0], progress(1));
  assert.deepEqual(tab2.received[0], progress(1));
  await sleep(300);
  assert.equal(bob.received.length, 0);
  assert.equal(tab1.received.length, 1);
});

test("the full result event reaches the user too", async () => {
  const carol = await tab(urlB, "carol-1");
  const results: unknown[] = [];
  carol.socket.on(SOCKET_EVENTS.result, (payload) => results.push(payload));
  const now = new Date().toISOString();
  const submission = {
    _id: submissionId,
    userId: "carol-1",
    problemId: "abcdefabcdefabcdefabcdef",
    language: "PYTHON" as const,
    status: "Success" as const,
    passed: 1,
    total: 1,
    timeMs: 10,
    memoryKb: 1000,
    results: [],
    compileOutput: null,
    failedTest: null,
    createdAt: now,
    updatedAt: now,
  };
  await append("carol-1", SOCKET_EVENTS.result, submission);
  await eventually(() => results.length === 1, "the result event", 5_000);
  assert.deepEqual(results[0], submission);
});

test("an appended event reaches a user connected on instance B exactly once", async () => {
  const dave = await tab(urlB, "dave-1");
  const erin = await tab(urlA, "erin-1");

  await append("dave-1", SOCKET_EVENTS.progress, progress(2));

  await eventually(() => dave.received.length >= 1, "dave to receive the event", 5_000);
  // Both instances get the Redis message; only B holds dave's socket. Wait to catch a duplicate.
  await sleep(500);
  assert.equal(dave.received.length, 1);
  assert.equal(erin.received.length, 0);
});

test("a user with tabs on both instances gets one copy per tab", async () => {
  const onA = await tab(urlA, "frank-1");
  const onB = await tab(urlB, "frank-1");
  await append("frank-1", SOCKET_EVENTS.progress, progress(3));
  await eventually(() => onA.received.length >= 1 && onB.received.length >= 1, "both tabs", 5_000);
  await sleep(500);
  assert.equal(onA.received.length, 1);
  assert.equal(onB.received.length, 1);
});

test("a client claiming another user's id (auth, query, join events) gets nothing extra", async () => {
  const victim = await tab(urlA, "victim-1");
  const attacker = await tab(urlB, "mallory-1", { auth: { userId: "victim-1" }, query: { userId: "victim-1" } });
  // The original system let a client pick its room; these must all be ignored.
  const raw = attacker.socket as unknown as { emit(event: string, ...args: unknown[]): void };
  raw.emit("join", "victim-1");
  raw.emit("join", userRoom("victim-1"));
  raw.emit("setUserId", { userId: "victim-1" });
  raw.emit("subscribe", { room: userRoom("victim-1") });
  await sleep(200);

  const [serverSide] = await instanceB.io.in(userRoom("mallory-1")).fetchSockets();
  assert.ok(serverSide);
  assert.deepEqual([...serverSide.rooms].sort(), [serverSide.id, userRoom("mallory-1")].sort());

  await append("victim-1", SOCKET_EVENTS.progress, progress(1));
  await eventually(() => victim.received.length === 1, "the victim's own event", 5_000);
  await sleep(300);
  assert.equal(attacker.received.length, 0);
  assert.ok(attacker.socket.connected);
});

test("events appended while an instance's Redis link is cut reach its tabs once it is back, in order, once", async () => {
  const henry = await tab(urlA, "henry-1");
  await append("henry-1", SOCKET_EVENTS.progress, progress(0));
  await eventually(() => henry.received.length === 1, "the first event", 5_000);
  // Cut every relay connection (both instances): the next appends land while they reconnect.
  const clients = (await emitterRedis.client("LIST")) as string;
  const readers = clients.split("\n").filter((line) => / name=socket-events-reader /.test(line)).map((line) => /\bid=(\d+)/.exec(line)![1]!);
  // Other suites on this Redis may have relays too: cutting theirs is harmless (they resume the same way).
  assert.ok(readers.length >= 2, "one relay connection per instance");
  for (const id of readers) await emitterRedis.client("KILL", "ID", id);
  for (let passed = 1; passed <= 3; passed += 1) await append("henry-1", SOCKET_EVENTS.progress, progress(passed));
  await eventually(() => henry.received.length === 4, "the events appended during the cut", 10_000);
  await sleep(500);
  assert.deepEqual(henry.received.map((event) => event.passed), [0, 1, 2, 3]);
});

test("a malformed entry is skipped; the ones after it are delivered", async () => {
  const ivy = await tab(urlB, "ivy-1");
  await emitterRedis.xadd(userEventsStreamKey(prefix), "*", "user", "ivy-1", "event", SOCKET_EVENTS.progress, "data", "{not json");
  await emitterRedis.xadd(userEventsStreamKey(prefix), "*", "user", "ivy-1", "event", "not-an-event", "data", "{}");
  await append("ivy-1", SOCKET_EVENTS.progress, progress(5));
  await eventually(() => ivy.received.length === 1, "the well-formed event", 5_000);
  await sleep(300);
  assert.deepEqual(ivy.received, [progress(5)]);
});

test("when the stream lost entries while an instance was cut off, its tabs are disconnected so they re-read (and reconnect)", async () => {
  const jack = await tab(urlA, "jack-1");
  await append("jack-1", SOCKET_EVENTS.progress, progress(7));
  await eventually(() => jack.received.length === 1, "the first event", 5_000);
  const disconnected = new Promise<string>((resolve) => jack.socket.once("disconnect", (reason) => resolve(reason)));
  // Redis "restarted without the stream": gone, and the relays' connections cut.
  await emitterRedis.del(userEventsStreamKey(prefix));
  const clients = (await emitterRedis.client("LIST")) as string;
  for (const line of clients.split("\n").filter((l) => / name=socket-events-reader /.test(l))) await emitterRedis.client("KILL", "ID", /\bid=(\d+)/.exec(line)![1]!);
  // An event of the new stream may be delivered before the relay looks back: the check still
  // compares the stream with what was read before the cut.
  await append("jack-1", SOCKET_EVENTS.progress, progress(9));
  const reason = await Promise.race([disconnected, sleep(12_000).then(() => "still connected")]);
  // "transport close", not "io server disconnect": a client with reconnection on (the default;
  // these test tabs have it off) comes back by itself.
  assert.equal(reason, "transport close", "the server closed the tab's connection");
  jack.socket.connect();
  await eventually(() => jack.socket.connected, "the tab to reconnect", 10_000);
  // Delivery goes on from the new stream.
  await append("jack-1", SOCKET_EVENTS.progress, progress(8));
  await eventually(() => jack.received.some((event) => event.passed === 8), "the next event after the reconnect", 10_000);
});

test("close() disconnects sockets and releases the port", async () => {
  const extra = await createSocketService({ redisUrl: testRedisUrl(), prefix, jwtSecret: secret, logger: silentLogger() });
  const url = await listen(extra.httpServer);
  const token = await signToken({ sub: "gina-1", role: "user" }, secret);
  const socket = await connect(url, { auth: { token } });
  const disconnected = new Promise<string>((resolve) => socket.once("disconnect", (reason) => resolve(reason)));
  await extra.close();
  assert.equal(typeof (await disconnected), "string");
  assert.equal(extra.httpServer.listening, false);
  socket.close();
});
