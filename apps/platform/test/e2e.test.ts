// End to end: the four services in one process on real Redis, real PGlite and the
// real bwrap sandbox; an admin creates a problem over HTTP, a user submits over
// HTTP and receives the verdicts over socket.io, and GET agrees with the socket.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { signToken } from "@sonocode/auth";
import { eventually, uniqueName } from "@sonocode/testkit";
import type { Platform } from "../src/platform.js";
import { AB_PROBLEM, PYTHON_AB_OK, PYTHON_AB_WRONG, TEST_JWT_SECRET, call, connectSocket, startTestPlatform, type ClientSocket } from "./helpers.js";

describe("platform end to end (embedded wiring)", () => {
  let platform: Platform;
  let admin: string;
  let alice: string;
  let bob: string;
  let problemId: string;
  const sockets: ClientSocket[] = [];

  before(async () => {
    platform = await startTestPlatform(uniqueName("e2e"));
    [admin, alice, bob] = await Promise.all([
      signToken({ sub: "admin-1", role: "admin" }, TEST_JWT_SECRET),
      signToken({ sub: "alice", role: "user" }, TEST_JWT_SECRET),
      signToken({ sub: "bob", role: "user" }, TEST_JWT_SECRET),
    ]);
    const created = await call(platform.urls.problem, "POST", "/api/v1/problems", { token: admin, body: AB_PROBLEM });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    problemId = created.body.data._id;
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await platform?.close();
  });

  test("every service answers /ping and /health", async () => {
    for (const url of Object.values(platform.urls)) {
      const ping = await fetch(`${url}/ping`);
      assert.equal(ping.status, 200, url);
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200, url);
    }
  });

  test("a right answer is judged Success and pushed to every tab of the user, and only to that user", async () => {
    const [tab1, tab2, other] = await Promise.all([
      connectSocket(platform.urls.socket, alice),
      connectSocket(platform.urls.socket, alice),
      connectSocket(platform.urls.socket, bob),
    ]);
    sockets.push(tab1, tab2, other);
    const received: Record<string, any[]> = { tab1: [], tab2: [], other: [] };
    const progress: any[] = [];
    tab1.on("submissionPayloadResponse", (p) => received.tab1!.push(p));
    tab2.on("submissionPayloadResponse", (p) => received.tab2!.push(p));
    other.on("submissionPayloadResponse", (p) => received.other!.push(p));
    tab1.on("submission:progress", (p) => progress.push(p));

    const created = await call(platform.urls.submission, "POST", "/api/v1/submissions", {
      token: alice,
      body: { problemId, language: "python", code: PYTHON_AB_OK },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const submission = created.body.data.submission;
    assert.equal(submission.status, "Pending");
    assert.equal(submission.userId, "alice");
    assert.equal(submission.language, "PYTHON");

    await eventually(() => received.tab1!.length > 0 && received.tab2!.length > 0, "the result on both tabs", 60_000);
    const pushed = received.tab1![0];
    assert.equal(pushed._id, submission._id);
    assert.equal(pushed.status, "Success");
    assert.equal(pushed.passed, 3);
    assert.equal(pushed.total, 3);
    assert.equal(pushed.results.length, 3);
    assert.ok(progress.some((p) => p.submissionId === submission._id && p.status === "Running"));

    const fetched = await call(platform.urls.submission, "GET", `/api/v1/submissions/${submission._id}`, { token: alice });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.data.status, "Success");
    assert.deepEqual(fetched.body.data.results, pushed.results);

    await new Promise((r) => setTimeout(r, 300));
    assert.equal(received.tab1!.length, 1, "exactly once per tab");
    assert.equal(received.other!.length, 0, "never to another user");
  });

  test("a wrong answer is WA with the first visible failing test shown; stub code is wrapped", async () => {
    const socket = await connectSocket(platform.urls.socket, alice);
    sockets.push(socket);
    const results: any[] = [];
    socket.on("submissionPayloadResponse", (p) => results.push(p));

    const wrong = await call(platform.urls.submission, "POST", "/api/v1/submission", {
      token: alice,
      body: { problemId, language: "PYTHON", code: PYTHON_AB_WRONG },
    });
    assert.equal(wrong.status, 201);
    const stub = await call(platform.urls.submission, "POST", "/api/v1/submissions", {
      token: alice,
      body: { problemId, language: "cpp", code: "long long solve(long long a, long long b) { return a + b; }" },
    });
    assert.equal(stub.status, 201);

    const wrongId = wrong.body.data.submission._id;
    const stubId = stub.body.data.submission._id;
    await eventually(() => results.some((r) => r._id === wrongId) && results.some((r) => r._id === stubId), "both verdicts", 90_000);
    const wa = results.find((r) => r._id === wrongId);
    assert.equal(wa.status, "WA");
    assert.equal(wa.passed, 0);
    assert.deepEqual(wa.failedTest, { index: 0, input: "1 2\n", expected: "3\n", actual: "-1\n" });
    assert.equal(results.find((r) => r._id === stubId).status, "Success");

    const bobView = await call(platform.urls.submission, "GET", `/api/v1/submissions/${wrongId}`, { token: bob });
    assert.equal(bobView.status, 404, "another user's submission is not found, like another user's run");
    const list = await call(platform.urls.submission, "GET", `/api/v1/submissions?problemId=${problemId}`, { token: alice });
    assert.equal(list.status, 200);
    assert.ok(list.body.data.submissions.length >= 3);
  });

  test("a reconnecting client reads the current state from GET", async () => {
    const created = await call(platform.urls.submission, "POST", "/api/v1/submissions", {
      token: bob,
      body: { problemId, language: "python", code: "print(int(input().split()[0]) * 0 + 99)\n" },
    });
    assert.equal(created.status, 201);
    const id = created.body.data.submission._id;
    const final = await eventually(async () => {
      const got = await call(platform.urls.submission, "GET", `/api/v1/submissions/${id}`, { token: bob });
      return ["Pending", "Running"].includes(got.body.data.status) ? null : got.body.data;
    }, "a final state", 60_000);
    assert.equal(final.status, "WA");
    // The failing test is hidden for index 2 only; index 0 fails first here and is visible.
    assert.equal(final.failedTest.index, 0);
  });
});
