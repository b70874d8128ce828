// Rejudges in the store: the behaviour every adapter must meet (rejudge.*.test.ts run it on a
// PostgreSQL server and, with MONGO_URL, MongoDB; PGlite through services/submission-service's
// rejudge test). Pages, previousStatus, the generation guard, who owns a rejudge, and problem
// statistics that count each submission's last verdict once across a rejudge.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { VerdictFields } from "@sonocode/contracts";
import type { Store } from "../src/index.js";
import { newSubmission, problemInput, verdict } from "./store.contract.js";

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
      const first = await store.rejudges.markPage(problem._id, { limit: 2, at });
      assert.deepEqual(first, [wrong._id, right._id]);
      const second = await store.rejudges.markPage(problem._id, { after: first[1], limit: 2, at });
      assert.deepEqual(second, [inFlight._id]);
      assert.deepEqual(await store.rejudges.markPage(problem._id, { after: second[0], limit: 2, at }), []);

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
      const at = new Date().toISOString();
      await store.rejudges.markPage(problem._id, { limit: 10, at });
      await store.rejudges.markPage(problem._id, { limit: 10, at });
      assert.equal(await store.submissions.markRunning(once._id, { passed: 1, total: 2 }, 1), null);
      const stale = await store.submissions.finalize(once._id, verdict({ status: "Success" }), 1);
      assert.deepEqual([stale?.applied, stale?.submission.status, stale?.submission.previousStatus], [false, "Pending", "TLE"]);
      assert.equal((await store.submissions.markRunning(once._id, { passed: 1, total: 2 }, 2))?.status, "Running");
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
      await store.rejudges.markPage(problem._id, { limit: 10, at: new Date().toISOString() });
      assert.deepEqual(await stats(), { submissions: 3, accepted: 1 }, "until its new verdict a submission counts with its old one");
      await store.submissions.finalize(a._id, verdict({ status: "Success", passed: 2 }), 1);
      await store.submissions.finalize(b._id, verdict({ status: "WA" }), 1);
      assert.deepEqual(await stats(), { submissions: 3, accepted: 1 });
      const ids = (await store.rejudges.listRejudging(100)).filter((ref) => ref.problemId === problem._id);
      assert.equal(ids.length, 1);
      await store.submissions.finalize(ids[0]!._id, verdict({ status: "Success", passed: 2 }), 1);
      assert.deepEqual(await stats(), { submissions: 3, accepted: 2 });
    });
  });
}
