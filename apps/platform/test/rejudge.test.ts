// Rejudge end to end on the embedded platform (real Redis, PGlite, bwrap, one evaluator slot):
// an admin fixes a problem's tests and rejudges it; every submission is judged again with its
// previous status kept, its owner gets the new final event, and a fresh submission made while
// the rejudge backlog waits overtakes it (rejudges are queued at a lower BullMQ priority).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { signToken } from "@sonocode/auth";
import type { Submission } from "@sonocode/contracts";
import { eventually, uniqueName } from "@sonocode/testkit";
import type { Platform } from "../src/platform.js";
import { AB_PROBLEM, PYTHON_AB_OK, PYTHON_AB_WRONG, TEST_JWT_SECRET, call, connectSocket, startTestPlatform, type ClientSocket } from "./helpers.js";

/** Tests where b = 0, so a - b is right too: the "wrong" program passes after the fix. */
const FIXED_TESTS = [
  { input: "1 0\n", output: "1\n" },
  { input: "7 0\n", output: "7\n" },
  { input: "-4 0\n", output: "-4\n", hidden: true },
];
const REJUDGED = 6;
/** Each judging takes a little while (3 tests), so the test sees the rejudges waiting in the queue however fast the machine. */
const SLOW = "import time\ntime.sleep(0.15)\n";

describe("rejudge (embedded platform, one evaluator slot)", () => {
  let platform: Platform;
  let admin: string;
  let alice: string;
  let problemId: string;
  let socket: ClientSocket;
  const finals: Submission[] = [];

  before(async () => {
    platform = await startTestPlatform(uniqueName("rejudge"), { limits: { perMinute: 0, maxInFlight: 0 } });
    [admin, alice] = await Promise.all([signToken({ sub: "admin-1", role: "admin" }, TEST_JWT_SECRET), signToken({ sub: "alice", role: "user" }, TEST_JWT_SECRET)]);
    const created = await call(platform.urls.problem, "POST", "/api/v1/problems", { token: admin, body: AB_PROBLEM });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    problemId = created.body.data._id;
    socket = await connectSocket(platform.urls.socket, alice);
    socket.on("submissionPayloadResponse", (payload) => finals.push(payload as Submission));
  });

  after(async () => {
    socket?.disconnect();
    await platform?.close();
  });

  test("only admins may rejudge; bad and unknown ids are refused in the envelope", async () => {
    const asUser = await call(platform.urls.problem, "POST", `/api/v1/problems/${problemId}/rejudge`, { token: alice });
    assert.equal(asUser.status, 403);
    assert.equal(asUser.body.success, false);
    const anonymous = await call(platform.urls.problem, "POST", `/api/v1/problems/${problemId}/rejudge`);
    assert.equal(anonymous.status, 401);
    const unknown = await call(platform.urls.problem, "POST", `/api/v1/problems/${"0".repeat(24)}/rejudge`, { token: admin });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "PROBLEM_NOT_FOUND");
    const bad = await call(platform.urls.problem, "POST", "/api/v1/problems/not-an-id/rejudge", { token: admin });
    assert.equal(bad.status, 400);
    const wrongMethod = await call(platform.urls.problem, "GET", `/api/v1/problems/${problemId}/rejudge`, { token: admin });
    assert.equal(wrongMethod.status, 405);
    // The internal route behind it takes service tokens only: an admin cannot skip problem-service's checks.
    const direct = await call(platform.urls.submission, "POST", `/internal/v1/problems/${problemId}/rejudge`, { token: admin });
    assert.equal(direct.status, 403);
  });

  test("a rejudge judges every submission again, keeps previousStatus, notifies the owner, and fresh work overtakes it", async () => {
    const ids: string[] = [];
    for (let i = 0; i < REJUDGED; i++) {
      const code = SLOW + (i % 2 === 0 ? PYTHON_AB_OK : PYTHON_AB_WRONG);
      const created = await call(platform.urls.submission, "POST", "/api/v1/submissions", { token: alice, body: { problemId, language: "python", code } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      ids.push(created.body.data.submission._id);
    }
    const first = await eventually(async () => {
      const all = await Promise.all(ids.map((id) => platform.store.submissions.findById(id)));
      return all.every((s) => s && s.status !== "Pending" && s.status !== "Running") ? (all as Submission[]) : null;
    }, "the first verdicts", 120_000);
    assert.deepEqual(first.map((s) => s.status), ids.map((_, i) => (i % 2 === 0 ? "Success" : "WA")));

    const patched = await call(platform.urls.problem, "PATCH", `/api/v1/problems/${problemId}`, { token: admin, body: { testCases: FIXED_TESTS } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const finalsBefore = finals.length;

    const rejudge = await call(platform.urls.problem, "POST", `/api/v1/problems/${problemId}/rejudge`, { token: admin });
    assert.equal(rejudge.status, 202, JSON.stringify(rejudge.body));
    assert.equal(rejudge.body.success, true);
    // Recorded and answered at once; the submissions are marked in the background.
    assert.deepEqual([rejudge.body.data.queued, rejudge.body.data.created, rejudge.body.data.status, rejudge.body.data.requestedBy], [REJUDGED, true, "marking", "admin-1"]);
    // Once the first rejudge is being judged, the others wait in the queue (the feeder queues its
    // whole window at once): a fresh submission made now must not wait for them.
    // (Marked first: before the background marking, every one still has its first, final status.)
    await eventually(async () => {
      const all = await Promise.all(ids.map((id) => platform.store.submissions.findById(id)));
      return all.every((s) => s?.rejudgeGeneration === 1) && all.some((s) => s?.status !== "Pending");
    }, "the first rejudge to start", 60_000);
    const fresh = await call(platform.urls.submission, "POST", "/api/v1/submissions", { token: alice, body: { problemId, language: "python", code: PYTHON_AB_OK } });
    assert.equal(fresh.status, 201);
    const freshId: string = fresh.body.data.submission._id;

    const rejudged = await eventually(async () => {
      const all = await Promise.all([...ids, freshId].map((id) => platform.store.submissions.findById(id)));
      return all.every((s) => s && s.status !== "Pending" && s.status !== "Running") ? (all as Submission[]) : null;
    }, "every rejudged verdict", 180_000);
    const freshDone = rejudged.pop()!;
    assert.equal(freshDone.status, "Success");
    assert.equal(freshDone.rejudgeGeneration, undefined);
    for (const [i, submission] of rejudged.entries()) {
      assert.equal(submission.status, "Success", `submission ${i} judged on the fixed tests`);
      assert.equal(submission.previousStatus, i % 2 === 0 ? "Success" : "WA");
      assert.equal(submission.rejudgeGeneration, 1);
      assert.ok(submission.rejudgedAt && submission.rejudgedAt > first[i]!.updatedAt);
    }
    // One slot: the fresh submission waits at most for the rejudge being judged when it came
    // (and one the evaluator had fetched in the same instant); in order of arrival it would be last.
    const overtaken = rejudged.filter((s) => s.updatedAt > freshDone.updatedAt).length;
    // A precondition, not the claim: the fresh submission came while the rejudges still waited.
    const doneBeforeFresh = rejudged.filter((s) => s.updatedAt < fresh.body.data.submission.createdAt).length;
    assert.ok(doneBeforeFresh <= 1, `${doneBeforeFresh} rejudges were already done when the fresh submission came`);
    console.log(`[rejudge] the fresh submission overtook ${overtaken} of ${REJUDGED} rejudges`);
    assert.ok(overtaken >= REJUDGED - 2, `the fresh submission overtook ${overtaken} of ${REJUDGED} rejudges`);

    // The owner got the new final event of every rejudged submission (generation 1).
    await eventually(() => ids.every((id) => finals.slice(finalsBefore).some((f) => f._id === id && f.rejudgeGeneration === 1)), "the rejudged final events", 30_000);
    // Its progress, through problem-service: all marked, none left to judge.
    const progress = await call(platform.urls.problem, "GET", `/api/v1/problems/${problemId}/rejudges/${rejudge.body.data._id}`, { token: admin });
    assert.equal(progress.status, 200, JSON.stringify(progress.body));
    assert.deepEqual([progress.body.data.status, progress.body.data.marked, progress.body.data.pending], ["marked", REJUDGED, 0]);
    assert.equal((await call(platform.urls.problem, "GET", `/api/v1/problems/${"0".repeat(24)}/rejudges/${rejudge.body.data._id}`, { token: admin })).status, 404, "not under another problem");
    const listed = await call(platform.urls.submission, "GET", `/api/v1/submissions/${ids[1]}`, { token: alice });
    assert.equal(listed.body.data.previousStatus, "WA");
    assert.equal(listed.body.data.status, "Success");
  });
});
