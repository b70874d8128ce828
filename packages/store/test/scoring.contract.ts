// Scores, subtask results, problem statistics and percentile counts: the behaviour every
// adapter must meet (scoring.*.test.ts run it on PGlite, PostgreSQL and, with MONGO_URL, MongoDB).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { GroupResult, Language, Submission, VerdictFields } from "@sonocode/contracts";
import type { Store } from "../src/index.js";
import { rejudgeAll } from "./rejudge.contract.js";
import { newSubmission, problemInput, verdict } from "./store.contract.js";

export interface ScoringHarness {
  open(): Promise<Store>;
  close(): Promise<void>;
}

const GROUPS: GroupResult[] = [
  { name: "small", points: 40, earned: 40, status: "Success" },
  { name: "large", points: 60, earned: 0, status: "TLE" },
];

export function scoringContract(name: string, harness: ScoringHarness): void {
  describe(`store scoring and statistics: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await harness.open();
    });
    after(() => harness.close());

    async function judged(problemId: string, status: VerdictFields["status"], overrides: Partial<VerdictFields> = {}, language: Language = "PYTHON") {
      const created = await store.submissions.create(newSubmission({ problemId, language }));
      const result = await store.submissions.finalize(created._id, verdict({ status, ...overrides }));
      assert.equal(result?.applied, true);
      return result!.submission;
    }

    async function stats(problemId: string) {
      return (await store.problems.findById(problemId))?.stats;
    }

    it("finalize stores score and groups; a submission without them reads without them", async () => {
      const problem = await store.problems.create(problemInput());
      const scored = await judged(problem._id, "TLE", { score: 40, groups: GROUPS });
      assert.equal(scored.score, 40);
      assert.deepEqual(scored.groups, GROUPS);
      assert.deepEqual(await store.submissions.findById(scored._id), scored);
      const plain = await judged(problem._id, "IE");
      assert.equal(plain.score, undefined);
      assert.ok(!("groups" in plain));
      const pending = await store.submissions.create(newSubmission({ problemId: problem._id }));
      assert.ok(!("score" in pending));
    });

    it("problem stats: every read has them; finalize counts judged (not IE) and accepted submissions once", async () => {
      const problem = await store.problems.create(problemInput());
      assert.deepEqual(problem.stats, { submissions: 0, accepted: 0, acceptanceRate: 0 });
      const wa = await judged(problem._id, "WA");
      await judged(problem._id, "Success", { passed: 2 });
      await judged(problem._id, "CE");
      await judged(problem._id, "IE");
      assert.deepEqual(await stats(problem._id), { submissions: 3, accepted: 1, acceptanceRate: 33.3 });

      // A replayed result changes nothing.
      const replay = await store.submissions.finalize(wa._id, verdict({ status: "Success" }));
      assert.equal(replay?.applied, false);
      assert.deepEqual(await stats(problem._id), { submissions: 3, accepted: 1, acceptanceRate: 33.3 });

      // Concurrent finalizers of one submission: counted once.
      const racing = await store.submissions.create(newSubmission({ problemId: problem._id }));
      await Promise.all(["Success", "WA", "Success", "TLE", "Success"].map((status) => store.submissions.finalize(racing._id, verdict({ status: status as VerdictFields["status"] }))));
      const after = await stats(problem._id);
      assert.equal(after?.submissions, 4);

      // Editing the problem keeps its stats; the list and other problems show theirs.
      const other = await store.problems.create(problemInput({ title: "Other" }));
      await judged(other._id, "Success");
      await store.problems.update(problem._id, { title: "Renamed" });
      await store.problems.replace(problem._id, problemInput({ title: "Replaced" }));
      assert.deepEqual(await stats(problem._id), after);
      assert.deepEqual(await stats(other._id), { submissions: 1, accepted: 1, acceptanceRate: 100 });
      const listed = await store.problems.list({ page: 1, limit: 100 });
      assert.deepEqual(listed.items.find((p) => p._id === other._id)?.stats, { submissions: 1, accepted: 1, acceptanceRate: 100 });
    });

    it("a rejudge (rejudgeRequests) moves the counters by what changed, never counting a submission twice", async () => {
      const problem = await store.problems.create(problemInput());
      const [first, second, third] = [await judged(problem._id, "WA"), await judged(problem._id, "Success"), await judged(problem._id, "IE")];
      assert.deepEqual(await stats(problem._id), { submissions: 2, accepted: 1, acceptanceRate: 50 });
      const rejudge = async () => assert.equal((await rejudgeAll(store, problem._id)).queued, 3);

      await rejudge();
      assert.deepEqual(await stats(problem._id), { submissions: 2, accepted: 1, acceptanceRate: 50 }, "while rejudged, the old verdicts still count");
      assert.equal((await store.submissions.finalize(first._id, verdict({ status: "Success" })))?.applied, true);
      assert.deepEqual(await stats(problem._id), { submissions: 2, accepted: 2, acceptanceRate: 100 }, "WA -> Success: one more accepted, no new submission");
      await store.submissions.finalize(second._id, verdict({ status: "TLE" }));
      assert.deepEqual(await stats(problem._id), { submissions: 2, accepted: 1, acceptanceRate: 50 });
      await store.submissions.finalize(third._id, verdict({ status: "WA" }));
      assert.deepEqual(await stats(problem._id), { submissions: 3, accepted: 1, acceptanceRate: 33.3 }, "IE was never counted: judged now, it is a new submission");

      await rejudge();
      await store.submissions.finalize(first._id, verdict({ status: "Success" }));
      await store.submissions.finalize(second._id, verdict({ status: "TLE" }));
      await store.submissions.finalize(third._id, verdict({ status: "IE" }));
      assert.deepEqual(await stats(problem._id), { submissions: 2, accepted: 1, acceptanceRate: 50 }, "the same verdicts again change nothing; back to IE no longer counts");
    });

    it("acceptedComparison counts the other accepted submissions of the same problem and language, and those slower / heavier", async () => {
      const problem = await store.problems.create(problemInput());
      const figures = [
        [10, 1000],
        [20, 3000],
        [30, 2000],
        [30, 5000],
        [40, 2000],
      ] as const;
      const accepted: Submission[] = [];
      for (const [timeMs, memoryKb] of figures) accepted.push(await judged(problem._id, "Success", { timeMs, memoryKb }));
      await judged(problem._id, "WA", { timeMs: 99, memoryKb: 9999 });
      await judged(problem._id, "Success", { timeMs: 99, memoryKb: 9999 }, "CPP");
      await judged((await store.problems.create(problemInput()))._id, "Success", { timeMs: 99, memoryKb: 9999 });

      const of = (index: number) => ({ problemId: problem._id, language: "PYTHON" as const, timeMs: accepted[index]!.timeMs!, memoryKb: accepted[index]!.memoryKb! });
      assert.deepEqual(await store.submissions.acceptedComparison(of(0)), { others: 4, slower: 4, moreMemory: 4 });
      assert.deepEqual(await store.submissions.acceptedComparison(of(2)), { others: 4, slower: 1, moreMemory: 2 }, "ties are neither slower nor heavier");
      assert.deepEqual(await store.submissions.acceptedComparison(of(4)), { others: 4, slower: 0, moreMemory: 2 });
      assert.deepEqual(await store.submissions.acceptedComparison({ ...of(0), problemId: "not-an-id" }), { others: 0, slower: 0, moreMemory: 0 });
    });
  });
}
