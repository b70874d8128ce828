// Scale-out: two socket-service instances and two evaluators on one Redis. Each
// user is connected to a different socket instance; every result must reach its
// user exactly once, whichever evaluator judged it and whichever instance holds the socket.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { signToken } from "@sonocode/auth";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvaluatorService, createTestSetCache, createTestSetClient, createTestSetProvider } from "@sonocode/evaluator-service";
import { createJudge } from "@sonocode/judge";
import { silentLogger } from "@sonocode/logger";
import { createSocketService } from "@sonocode/socket-service";
import { eventually, listen, uniqueName } from "@sonocode/testkit";
import type { Platform } from "../src/platform.js";
import { AB_PROBLEM, PYTHON_AB_OK, PYTHON_AB_WRONG, TEST_JWT_SECRET, call, connectSocket, startTestPlatform, type ClientSocket } from "./helpers.js";

let platform: Platform;
const extra: Array<() => Promise<unknown>> = [];
const sockets: ClientSocket[] = [];
let socketB: string;

before(async () => {
  const prefix = uniqueName("scale");
  platform = await startTestPlatform(prefix);
  const { redisUrl } = platform;
  const socketService = await createSocketService({ redisUrl, prefix, jwtSecret: TEST_JWT_SECRET, logger: silentLogger() });
  extra.push(() => socketService.close());
  socketB = await listen(socketService.httpServer);
  const judgeB = await createJudge({ engine: "bwrap", logger: silentLogger() });
  extra.push(() => judgeB.close());
  // A second evaluator as distributed mode runs one: its own test-set cache, fed by problem-service.
  const testSets = createTestSetProvider({
    cache: createTestSetCache({ dir: await mkdtemp(join(tmpdir(), "sonocode-scale-ts-")), maxBytes: 64 << 20 }),
    client: createTestSetClient({ baseUrl: platform.urls.problem, jwtSecret: TEST_JWT_SECRET }),
  });
  const evaluatorB = createEvaluatorService({ redisUrl, prefix, judge: judgeB, logger: silentLogger(), concurrency: 1, testSets });
  extra.push(() => evaluatorB.close());
});

after(async () => {
  for (const socket of sockets) socket.disconnect();
  for (const stop of extra.reverse()) await stop();
  await platform?.close();
});

test("each result reaches its user exactly once, on the instance the user is connected to", async () => {
  const admin = await signToken({ sub: "admin", role: "admin" }, TEST_JWT_SECRET);
  const created = await call(platform.urls.problem, "POST", "/api/v1/problems", { token: admin, body: AB_PROBLEM });
  assert.equal(created.status, 201);
  const problemId = created.body.data._id;

  const users = ["carol", "dave"] as const;
  const tokens = { carol: await signToken({ sub: "carol", role: "user" }, TEST_JWT_SECRET), dave: await signToken({ sub: "dave", role: "user" }, TEST_JWT_SECRET) };
  // carol on instance A (the platform's), dave on instance B.
  const carol = await connectSocket(platform.urls.socket, tokens.carol);
  const dave = await connectSocket(socketB, tokens.dave);
  sockets.push(carol, dave);
  const received = { carol: [] as any[], dave: [] as any[] };
  carol.on("submissionPayloadResponse", (p) => received.carol.push(p));
  dave.on("submissionPayloadResponse", (p) => received.dave.push(p));

  const expected: Record<string, { user: (typeof users)[number]; status: string }> = {};
  for (let i = 0; i < 3; i++) {
    for (const user of users) {
      const right = (i + (user === "dave" ? 1 : 0)) % 2 === 0;
      const response = await call(platform.urls.submission, "POST", "/api/v1/submissions", {
        token: tokens[user],
        body: { problemId, language: "python", code: right ? PYTHON_AB_OK : PYTHON_AB_WRONG },
      });
      assert.equal(response.status, 201);
      expected[response.body.data.submission._id] = { user, status: right ? "Success" : "WA" };
    }
  }

  await eventually(() => received.carol.length + received.dave.length >= 6, "six results", 120_000);
  await new Promise((r) => setTimeout(r, 500)); // any duplicate would arrive by now
  for (const user of users) {
    const ids = received[user].map((r) => r._id);
    assert.equal(new Set(ids).size, ids.length, `${user} got a result twice`);
    assert.equal(ids.length, 3, `${user} got ${ids.length} results`);
    for (const result of received[user]) {
      assert.equal(expected[result._id]?.user, user, "a result reached the wrong user");
      assert.equal(result.status, expected[result._id]?.status);
    }
  }
});
