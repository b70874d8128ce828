// Rejudges in the store: the behaviour every adapter must meet (rejudge.*.test.ts run it on a
// PostgreSQL server and, with MONGO_URL, MongoDB; PGlite through services/submission-service's
// rejudge test). Pages, previousStatus, the generation guard, who owns a rejudge, problem
// statistics that count each submission's last verdict once across a rejudge, and durable
// rejudge requests (migration 9): one marking per problem, resumable steps, racing steps.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { VerdictFields } from "@sonocode/contracts";
import type { Store } from "../src/index.js";
import { newSubmission, problemInput, verdict } from "./store.contract.js";

/** A whole rejudge of a problem, as the feeder's marker does it: the request, then every step (pages of `pageSize`). */
export async function rejudgeAll(store: Store, problemId: string, pageSize = 100): Promise<{ _id: string; queued: number }> {
  const { rejudge } = await store.rejudgeRequests.request(problemId, { at: new Date().toISOString(), requestedBy: null });
  while (!(await store.rejudgeRequests.markNext(rejudge._id, pageSize, new Date().toISOString()))?.done);
  return rejudge;
}

export interface RejudgeHarness {
  open(): Promise<Store>;
  close(): Promise<void>;
}

export function rejudgeContract(name: string, harness: RejudgeHarness): void {
  describe(`store rejudges: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await harness.open();
    });
    after(() => harness.close());

    async function judged(problemId: string, userId: string, status: VerdictFields["status"]) {
      const created = await store.submissions.create(newSubmission({ problemId, userId }));
      const result = await store.submissions.finalize(created._id, verdict({ status, passed: status === "Success" ? 2 : 0 }), 0);
      assert.equal(result?.applied, true);
      return result!.submission;
    }

    it("marks a problem's submissions in id pages, keeps the last final status, and hands them from the reconciler to the feeder", async () => {
      const problem = await store.problems.create(problemInput());
      const other = await store.problems.create(problemInput());
      const wrong = await judged(problem._id, "ria", "WA");
      const right = await judged(problem._id, "ria", "Success");
      const elsewhere = await judged(other._id, "ria", "WA");
      const inFlight = await store.submissions.create(newSubmission({ problemId: problem._id, userId: "ria" }));
      assert.equal(await store.submissions.countActiveByUser("ria"), 1);

      const at = new Date().toISOString();
      const { rejudge } = await store.rejudgeRequests.request(problem._id, { at, requestedBy: null });
      assert.deepEqual(await store.rejudgeRequests.markNext(rejudge._id, 2, at), { moved: 2, done: false });
      // Id order: the first page is the two judged ones; the one in flight comes next.
      assert.equal((await store.submissions.findById(inFlight._id))?.rejudgeGeneration, undefined);
      assert.equal((await store.submissions.findById(right._id))?.rejudgeGeneration, 1);
      assert.deepEqual(await store.rejudgeRequests.markNext(rejudge._id, 2, at), { moved: 1, done: true });

      const read = await Promise.all([wrong, right, inFlight, elsewhere].map((s) => store.submissions.findById(s._id)));
      assert.deepEqual(read.map((s) => [s?.status, s?.previousStatus, s?.rejudgeGeneration]), [
        ["Pending", "WA", 1],
        ["Pending", "Success", 1],
        ["Pending", null, 1],
        ["WA", undefined, undefined],
      ]);
      assert.equal(read[0]?.rejudgedAt, at);
      assert.deepEqual(read[0]?.results, []);
      // The feeder's window, oldest rejudge first; the reconciler and the in-flight cap skip them.
      const window = await store.rejudges.listRejudging(10);
      assert.deepEqual(window.filter((ref) => ref.problemId === problem._id).map((ref) => [ref._id, ref.rejudgeGeneration]), [
        [wrong._id, 1],
        [right._id, 1],
        [inFlight._id, 1],
      ]);
      assert.equal(await store.submissions.countActiveByUser("ria"), 0);
      const active = await store.submissions.listActive({ createdBefore: new Date(Date.now() + 60_000).toISOString(), limit: 100 });
      assert.ok(!active.some((ref) => ref.problemId === problem._id));
    });

    it("only the current generation writes: a superseded judging's progress and verdict are refused", async () => {
      const problem = await store.problems.create(problemInput());
      const once = await judged(problem._id, "sid", "TLE");
      await rejudgeAll(store, problem._id);
      await rejudgeAll(store, problem._id);
      assert.equal(await store.submissions.markRunning(once._id, { passed: 1, total: 2 }, 1), null);
      const stale = await store.submissions.finalize(once._id, verdict({ status: "Success" }), 1);
      assert.deepEqual([stale?.applied, stale?.submission.status, stale?.submission.previousStatus], [false, "Pending", "TLE"]);
      // The progress view names its judging (the notifier's per-generation gate key).
      assert.deepEqual(await store.submissions.markRunning(once._id, { passed: 1, total: 2 }, 2), { _id: once._id, userId: once.userId, status: "Running", passed: 1, total: 2, rejudgeGeneration: 2 });
      const current = await store.submissions.finalize(once._id, verdict({ status: "Success", passed: 2 }), 2);
      assert.deepEqual([current?.applied, current?.submission.status, current?.submission.previousStatus, current?.submission.rejudgeGeneration], [true, "Success", "TLE", 2]);
    });

    it("problem statistics count each submission's last verdict once across a rejudge", async () => {
      const problem = await store.problems.create(problemInput());
      const a = await judged(problem._id, "tia", "WA");
      const b = await judged(problem._id, "tia", "Success");
      await judged(problem._id, "tia", "WA");
      const stats = async () => {
        const counted = (await store.problems.findById(problem._id))?.stats;
        return { submissions: counted?.submissions, accepted: counted?.accepted };
      };
      assert.deepEqual(await stats(), { submissions: 3, accepted: 1 });
      await rejudgeAll(store, problem._id);
      assert.deepEqual(await stats(), { submissions: 3, accepted: 1 }, "until its new verdict a submission counts with its old one");
      await store.submissions.finalize(a._id, verdict({ status: "Success", passed: 2 }), 1);
      await store.submissions.finalize(b._id, verdict({ status: "WA" }), 1);
      assert.deepEqual(await stats(), { submissions: 3, accepted: 1 });
      const ids = (await store.rejudges.listRejudging(100)).filter((ref) => ref.problemId === problem._id);
      assert.equal(ids.length, 1);
      await store.submissions.finalize(ids[0]!._id, verdict({ status: "Success", passed: 2 }), 1);
      assert.deepEqual(await stats(), { submissions: 3, accepted: 2 });
    });

    it("a rejudge request is recorded at once, is the only one marking its problem, and marks in resumable pages up to the submissions it covers", async () => {
      const problem = await store.problems.create(problemInput());
      const early = [await judged(problem._id, "uma", "WA"), await judged(problem._id, "uma", "Success"), await judged(problem._id, "uma", "TLE")];
      const inFlight = await store.submissions.create(newSubmission({ problemId: problem._id, userId: "uma" }));
      await judged((await store.problems.create(problemInput()))._id, "uma", "WA");
      const at = new Date().toISOString();
      const first = await store.rejudgeRequests.request(problem._id, { at, requestedBy: "admin-1" });
      assert.equal(first.created, true);
      assert.deepEqual({ ...first.rejudge, _id: "" }, { _id: "", problemId: problem._id, status: "marking", queued: 4, marked: 0, pending: 0, requestedBy: "admin-1", createdAt: at, updatedAt: at, markedAt: null });
      // Nothing moved yet: the request only records the rejudge.
      assert.equal((await store.submissions.findById(early[0]!._id))?.status, "WA");
      const again = await store.rejudgeRequests.request(problem._id, { at: new Date().toISOString(), requestedBy: null });
      assert.deepEqual([again.created, again.rejudge._id], [false, first.rejudge._id], "one rejudge marks a problem at a time");
      // Submitted after the request: judged against the current tests anyway, so not covered.
      const later = await store.submissions.create(newSubmission({ problemId: problem._id, userId: "uma" }));
      assert.ok((await store.rejudgeRequests.listMarking(100)).some((r) => r._id === first.rejudge._id));

      const id = first.rejudge._id;
      const stepAt = new Date(Date.now() + 1_000).toISOString();
      assert.deepEqual(await store.rejudgeRequests.markNext(id, 3, stepAt), { moved: 3, done: false });
      const halfway = await store.rejudgeRequests.findById(id);
      assert.deepEqual([halfway?.status, halfway?.marked, halfway?.pending], ["marking", 3, 3]);
      // The next step resumes after the last id walked (the position is in the database) and ends the walk.
      assert.deepEqual(await store.rejudgeRequests.markNext(id, 3, stepAt), { moved: 1, done: true });
      assert.equal(await store.rejudgeRequests.markNext(id, 3, stepAt), null, "done: nothing more to mark");
      const done = await store.rejudgeRequests.findById(id);
      assert.deepEqual([done?.status, done?.marked, done?.pending, done?.markedAt], ["marked", 4, 4, stepAt]);
      assert.ok(!(await store.rejudgeRequests.listMarking(100)).some((r) => r._id === id));

      const read = await Promise.all([...early, inFlight, later].map((s) => store.submissions.findById(s._id)));
      assert.deepEqual(read.map((s) => [s?.status, s?.previousStatus, s?.rejudgeGeneration]), [
        ["Pending", "WA", 1],
        ["Pending", "Success", 1],
        ["Pending", "TLE", 1],
        ["Pending", null, 1],
        ["Pending", undefined, undefined],
      ]);
      // rejudgedAt is the request's time: the feeder's window takes one request in id order.
      assert.deepEqual(read.slice(0, 4).map((s) => s?.rejudgedAt), [at, at, at, at]);
      assert.deepEqual(read[0]?.results, []);
      // Judged again: pending counts down.
      await store.submissions.finalize(early[0]!._id, verdict({ status: "Success", passed: 2 }), 1);
      assert.equal((await store.rejudgeRequests.findById(id))?.pending, 3);
      // A new request once the first is marked: a new rejudge and a new generation.
      const second = await store.rejudgeRequests.request(problem._id, { at: new Date().toISOString(), requestedBy: null });
      assert.equal(second.created, true);
      assert.notEqual(second.rejudge._id, id);
      assert.equal(second.rejudge.queued, 5);
      while (!(await store.rejudgeRequests.markNext(second.rejudge._id, 2, new Date().toISOString()))?.done);
      assert.deepEqual((await store.submissions.findById(early[1]!._id))?.rejudgeGeneration, 2);
      assert.deepEqual((await store.submissions.findById(early[1]!._id))?.previousStatus, "Success");
      assert.equal((await store.rejudgeRequests.findById(id))?.pending, 0, "superseded: the second rejudge owns them now");
    });

    it("steps racing on one rejudge move each submission once", async () => {
      const problem = await store.problems.create(problemInput());
      await store.submissions.createMany(Array.from({ length: 40 }, () => newSubmission({ problemId: problem._id, userId: "vic" })));
      const { rejudge } = await store.rejudgeRequests.request(problem._id, { at: new Date().toISOString(), requestedBy: null });
      let steps = 0;
      for (;;) {
        const outcomes = await Promise.all([1, 2, 3].map(() => store.rejudgeRequests.markNext(rejudge._id, 7, new Date().toISOString())));
        steps++;
        if (outcomes.some((o) => o?.done) || outcomes.every((o) => o === null)) break;
        assert.ok(steps < 40, "the walk ends");
      }
      const done = await store.rejudgeRequests.findById(rejudge._id);
      assert.equal(done?.status, "marked");
      const window = (await store.rejudges.listRejudging(1_000)).filter((ref) => ref.problemId === problem._id);
      assert.equal(window.length, 40);
      assert.ok(window.every((ref) => ref.rejudgeGeneration === 1), `generations: ${[...new Set(window.map((ref) => ref.rejudgeGeneration))].join(", ")}`);
      assert.equal(done?.pending, 40);
    });

    it("unknown and malformed rejudge ids are not found; a problem without submissions is marked in one empty step", async () => {
      assert.equal(await store.rejudgeRequests.findById("0".repeat(24)), null);
      assert.equal(await store.rejudgeRequests.findById("nope"), null);
      assert.equal(await store.rejudgeRequests.markNext("0".repeat(24), 10, new Date().toISOString()), null);
      const empty = await store.problems.create(problemInput());
      const { rejudge } = await store.rejudgeRequests.request(empty._id, { at: new Date().toISOString(), requestedBy: null });
      assert.equal(rejudge.queued, 0);
      assert.deepEqual(await store.rejudgeRequests.markNext(rejudge._id, 10, new Date().toISOString()), { moved: 0, done: true });
      assert.equal((await store.rejudgeRequests.findById(rejudge._id))?.status, "marked");
    });
  });
}
