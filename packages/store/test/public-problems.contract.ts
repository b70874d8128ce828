// The public view built by the database (findPublicById, listPublic) against today's rule,
// toPublicProblem(findById): equal field for field and in JSON (key order too), on every adapter
// (public-problems.*.test.ts run it on PGlite, PostgreSQL and MongoDB or its stand-in). The
// adapter's own answer is checked too: hidden tests and secrets never leave the database.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { publicChecker, toPublicProblem, type Checker, type Problem, type ProblemInput, type PublicProblem } from "@sonocode/contracts";
import type { Store, StoreAdapter } from "../src/ports.js";
import { PUBLIC_CHECKER_FIELDS } from "../src/public-problems.js";
import { validated } from "../src/validated.js";
import { newSubmission, problemInput, verdict } from "./store.contract.js";

export interface PublicProblemsHarness {
  /** A fresh, empty database's adapter (before validated()). */
  open(): Promise<StoreAdapter>;
  /** Closes nothing: drops what open() made (the adapter is closed by then). */
  drop(): Promise<void>;
  /** Removes the `hidden` key of the problem's first test in the database, as a row from before it was always written. */
  unsetFirstHidden(problemId: string): Promise<void>;
}

/** Marks every secret a public read must never carry: found anywhere in its JSON, the test fails. */
const SECRET = "SECRET-7f3a";

const CUSTOM_CHECKER: Checker = { type: "custom", protocol: "kattis", language: "C", source: `/* ${SECRET} checker */`, files: [{ name: "lib.h", content: `/* ${SECRET} */` }] };

function secretsEverywhere(overrides: Partial<Record<keyof ProblemInput, unknown>> = {}): ProblemInput {
  return problemInput({
    title: "Mixed",
    difficulty: "medium",
    editorial: `${SECRET} editorial`,
    referenceSolution: { language: "PYTHON", code: `print('${SECRET}')` },
    testCases: [
      { input: "v1\n", output: "o1\n" },
      { input: `${SECRET} h1\n`, output: `${SECRET}\n`, hidden: true },
      { input: "v2\n", output: "o2\n", hidden: false, group: "small" },
      { input: `${SECRET} h2\n`, output: `${SECRET}\n`, hidden: true, group: "small" },
      { input: "v3\n", output: "o3\n", group: "large" },
      { input: `${SECRET} h3\n`, output: `${SECRET}\n`, hidden: true, group: "large" },
    ],
    groups: [
      { name: "small", points: 40 },
      { name: "large", points: 60, dependencies: ["small"] },
    ],
    codeStubs: [{ language: "python", startSnippet: "import sys\n", userSnippet: "def solve():\n    pass\n", endSnippet: "solve()\n" }],
    timeLimitMs: 1500,
    memoryLimitMb: 128,
    runAllTests: true,
    languageLimits: { PYTHON: { timeLimitMs: 4000 } },
    checker: CUSTOM_CHECKER,
    ...overrides,
  });
}

/** Problems covering each optional part of the public view. */
const PROBLEMS: Record<string, ProblemInput> = {
  "custom checker, groups, every optional field": secretsEverywhere(),
  "float checker with epsilon and case": secretsEverywhere({ difficulty: "hard", checker: { type: "float", epsilon: 1e-6, caseSensitive: false } }),
  "custom checker without protocol": secretsEverywhere({ checker: { type: "custom", language: "PYTHON", source: `# ${SECRET}` } }),
  "kattis interactor": secretsEverywhere({ checker: undefined, interactor: { protocol: "kattis", language: "C", source: `/* ${SECRET} */`, files: [{ name: "x.h", content: SECRET }] } }),
  "interactor without protocol": secretsEverywhere({ difficulty: "easy", checker: undefined, interactor: { language: "PYTHON", source: `# ${SECRET}` } }),
  "only hidden tests": secretsEverywhere({ groups: undefined, testCases: [{ input: SECRET, output: SECRET, hidden: true }, { input: SECRET, output: SECRET, hidden: true }] }),
  "only visible tests, no optional field": problemInput({ editorial: undefined, timeLimitMs: undefined, checker: undefined, codeStubs: [], testCases: [{ input: "1\n", output: "1\n" }] }),
};

function samePublic(actual: PublicProblem | null, expected: Problem | null, what: string): void {
  assert.ok(expected, `${what}: stored`);
  const wanted = toPublicProblem(expected);
  assert.deepStrictEqual(actual, wanted, what);
  assert.equal(JSON.stringify(actual), JSON.stringify(wanted), `${what}: the same JSON, key order included`);
}

export function publicProblemsContract(name: string, harness: PublicProblemsHarness): void {
  describe(`public problem reads built by the database: ${name}`, () => {
    let adapter: StoreAdapter;
    let store: Store;
    const ids = new Map<string, string>();
    before(async () => {
      adapter = await harness.open();
      store = validated(adapter);
      for (const [what, input] of Object.entries(PROBLEMS)) ids.set(what, (await store.problems.create(input))._id);
      // Statistics are part of the view: one problem has a judged and an accepted submission.
      const judgedId = ids.get("custom checker, groups, every optional field")!;
      for (const status of ["WA", "Success"] as const) {
        const submission = await store.submissions.create(newSubmission({ problemId: judgedId }));
        await store.submissions.finalize(submission._id, verdict({ status, passed: status === "Success" ? 2 : 1 }));
      }
    });
    after(async () => {
      await adapter?.close();
      await harness.drop();
    });

    it("findPublicById equals toPublicProblem(findById) for every kind of problem", async () => {
      for (const [what, id] of ids) samePublic(await store.problems.findPublicById(id), await store.problems.findById(id), what);
      const judged = await store.problems.findPublicById(ids.get("custom checker, groups, every optional field")!);
      assert.deepEqual(judged?.stats, { submissions: 2, accepted: 1, acceptanceRate: 50 });
      assert.deepEqual(judged?.testCases.map((t) => t.input), ["v1\n", "v2\n", "v3\n"], "visible tests, in order");
      assert.equal(judged?.totalTestCases, 6);
    });

    it("listPublic equals toPublicProblem of list, page by page and by difficulty", async () => {
      const queries = [
        { page: 1, limit: 20 },
        { page: 1, limit: 3 },
        { page: 3, limit: 3 },
        { page: 9, limit: 3 },
        { page: 1, limit: 20, difficulty: "medium" as const },
        { page: 1, limit: 20, difficulty: "hard" as const },
      ];
      for (const query of queries) {
        const [full, view] = await Promise.all([store.problems.list(query), store.problems.listPublic(query)]);
        assert.equal(view.total, full.total, JSON.stringify(query));
        assert.deepStrictEqual(view.items, full.items.map(toPublicProblem), JSON.stringify(query));
        assert.equal(JSON.stringify(view.items), JSON.stringify(full.items.map(toPublicProblem)), JSON.stringify(query));
      }
      assert.equal((await store.problems.listPublic({ page: 1, limit: 20 })).items.length, Object.keys(PROBLEMS).length);
    });

    it("the adapter's own answer carries no hidden test and no secret", async () => {
      for (const [what, id] of ids) {
        const raw = JSON.stringify(await adapter.problems.findPublicById(id));
        assert.ok(!raw.includes(SECRET), `${what}: ${raw.slice(0, 300)}`);
        for (const field of ["editorial", "referenceSolution", "testSet", "source", "files", "language\":\"C"]) assert.ok(!raw.includes(`"${field}`), `${what}: ${field}`);
      }
      const page = JSON.stringify(await adapter.problems.listPublic({ page: 1, limit: 20 }));
      assert.ok(!page.includes(SECRET));
    });

    it("an unknown or malformed id is null", async () => {
      assert.equal(await store.problems.findPublicById("0123456789abcdef01234567"), null);
      assert.equal(await store.problems.findPublicById("not-an-id"), null);
      assert.equal(await store.problems.findPublicById(ids.values().next().value!.toUpperCase()).then((p) => p?.title), "Mixed");
    });

    it("follows writes: a PATCH that hides a test or drops the checker shows at once", async () => {
      const id = ids.get("float checker with epsilon and case")!;
      const before = await store.problems.findById(id);
      await store.problems.update(id, { testCases: before!.testCases.map((t) => ({ ...t, hidden: true })), checker: { type: "exact" } });
      const after = await store.problems.findPublicById(id);
      assert.deepEqual(after?.testCases, []);
      assert.deepEqual(after?.checker, { type: "exact" });
      samePublic(after, await store.problems.findById(id), "after the PATCH");
    });

    it("a test stored without hidden reads as visible (testCaseSchema's default), with hidden: false", async () => {
      // A problem of its own: after the edit its full read fails (problemSchema wants hidden), by design.
      const created = await store.problems.create(secretsEverywhere({ title: "Old row" }));
      const id = created._id;
      const expected = toPublicProblem(created);
      await harness.unsetFirstHidden(id);
      assert.deepStrictEqual(await store.problems.findPublicById(id), expected);
      assert.deepStrictEqual((await store.problems.listPublic({ page: 1, limit: 20 })).items.find((p) => p._id === id), expected);
    });

    it("selects exactly the checker fields publicChecker keeps", () => {
      const everything: Required<Checker> = { type: "custom", epsilon: 0.5, caseSensitive: true, protocol: "testlib", language: "C", source: "s", files: [] };
      assert.deepEqual(Object.keys(publicChecker(everything)).sort(), [...PUBLIC_CHECKER_FIELDS].sort());
    });
  });
}

/** unsetFirstHidden on PostgreSQL and PGlite ($1: the problem id). */
export const UNSET_FIRST_HIDDEN_SQL = "UPDATE problems SET test_cases = jsonb_set(test_cases, '{0}', (test_cases->0) - 'hidden') WHERE id = $1";
