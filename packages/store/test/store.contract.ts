// The one behavioural contract every Store adapter must meet. Each adapter's
// *.test.ts calls storeContract() with a harness that makes fresh databases.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  problemInputSchema,
  problemSchema,
  submissionSchema,
  type NewSubmission,
  type ProblemInput,
  type VerdictFields,
} from "@sonocode/contracts";
import { testSetContentHash, testSetHash } from "@sonocode/contracts/test-set-hash";
import { isAppError } from "@sonocode/errors";
import { newObjectId, type Store } from "../src/index.js";

export interface HarnessDatabase {
  /** Opens (and migrates) a store on this database; may be called again after close. */
  open(): Promise<Store>;
  /** Removes the database; called once, after every store on it is closed. */
  drop(): Promise<void>;
}

export interface StoreHarness {
  /** A new, empty database. */
  newDatabase(): Promise<HarnessDatabase>;
  /** A second open() of the same database sees what the first wrote (false for in-memory PGlite). */
  persistent: boolean;
  /** Several stores may be open on one database at once (servers; not PGlite, which is one process's files). */
  concurrentOpen: boolean;
}

export function problemInput(overrides: Partial<Record<keyof ProblemInput, unknown>> = {}): ProblemInput {
  return problemInputSchema.parse({
    title: "Sum of two",
    description: "Read a and b, print a+b.",
    difficulty: "easy",
    testCases: [
      { input: "1 2\n", output: "3\n" },
      { input: "5 5\n", output: "10\n", hidden: true },
    ],
    codeStubs: [{ language: "python", userSnippet: "def solve(a, b):\n    pass\n" }],
    editorial: "Just add them.",
    timeLimitMs: 1000,
    checker: { type: "tokens" },
    ...overrides,
  });
}

export function newSubmission(overrides: Partial<NewSubmission> = {}): NewSubmission {
  return { userId: "user-1", problemId: newObjectId(), language: "PYTHON", code: "print(1)", total: 2, ...overrides };
}

export function verdict(overrides: Partial<VerdictFields> = {}): VerdictFields {
  return {
    status: "WA",
    passed: 1,
    total: 2,
    timeMs: 12,
    memoryKb: 2048,
    results: [
      { index: 0, status: "Success", timeMs: 10, memoryKb: 2048 },
      { index: 1, status: "WA", timeMs: 12, memoryKb: 2000, exitCode: 0 },
    ],
    compileOutput: null,
    failedTest: { index: 1, input: "5 5\n", expected: "10\n", actual: "11\n" },
    message: null,
    ...overrides,
  };
}

function isValidationError(error: unknown): boolean {
  return isAppError(error) && error.code === "VALIDATION_FAILED";
}

const INVALID_IDS = ["", "nope", "123", "zzzzzzzzzzzzzzzzzzzzzzzz", "0123456789abcdef0123456", "0123456789abcdef012345678", "12bytestring", "'; DROP TABLE problems; --"];

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`store contract: ${name}`, () => {
    let database: HarnessDatabase;
    let store: Store;

    before(async () => {
      database = await harness.newDatabase();
      store = await database.open();
    });
    after(async () => {
      await store?.close();
      await database?.drop();
    });

    describe("problems", () => {
      it("creates a problem with a fresh id and timestamps, and finds it by id", async () => {
        const input = problemInput();
        const created = await store.problems.create(input);
        assert.doesNotThrow(() => problemSchema.parse(created));
        assert.match(created._id, /^[0-9a-f]{24}$/);
        assert.equal(created.title, input.title);
        assert.deepEqual(created.testCases, input.testCases);
        assert.deepEqual(created.codeStubs, [{ language: "PYTHON", startSnippet: "", userSnippet: "def solve(a, b):\n    pass\n", endSnippet: "" }]);
        assert.equal(created.editorial, "Just add them.");
        assert.equal(created.timeLimitMs, 1000);
        assert.equal(created.memoryLimitMb, undefined, "absent optionals stay absent, not null");
        assert.ok(!("memoryLimitMb" in created));
        assert.deepEqual(created.checker, { type: "tokens" });
        assert.equal(created.createdAt, created.updatedAt);
        assert.ok(Math.abs(Date.parse(created.createdAt) - Date.now()) < 60_000);

        assert.deepEqual(await store.problems.findById(created._id), created);
        assert.deepEqual(await store.problems.findById(created._id.toUpperCase()), created, "ids are case-insensitive");
        assert.equal(await store.problems.findById(newObjectId()), null);
      });

      it("keeps large and unicode texts intact", async () => {
        const big = "x".repeat(300_000);
        const created = await store.problems.create(
          problemInput({ title: "Ünïcödé ✓ 'quotes' \"dq\"", testCases: [{ input: big, output: "😀\n\\n" }] }),
        );
        const found = await store.problems.findById(created._id);
        assert.equal(found?.title, "Ünïcödé ✓ 'quotes' \"dq\"");
        assert.equal(found?.testCases[0]?.input.length, 300_000);
        assert.equal(found?.testCases[0]?.output, "😀\n\\n");
      });

      it("stores NUL characters faithfully or refuses them as a validation error, never a 500", async () => {
        try {
          const created = await store.problems.create(problemInput({ testCases: [{ input: "a\u0000b", output: "c" }] }));
          assert.equal((await store.problems.findById(created._id))?.testCases[0]?.input, "a\u0000b");
        } catch (error) {
          assert.ok(isAppError(error) && error.code === "VALIDATION_FAILED", String(error));
        }
        try {
          const created = await store.submissions.create(newSubmission({ code: "a\u0000b" }));
          assert.equal((await store.submissions.findById(created._id))?.code, "a\u0000b");
        } catch (error) {
          assert.ok(isAppError(error) && error.code === "VALIDATION_FAILED", String(error));
        }
      });

      it("refuses or keeps an unpaired surrogate in nested text, never a 500", async () => {
        try {
          const created = await store.problems.create(problemInput({ testCases: [{ input: "a\ud800b", output: "c" }] }));
          assert.ok(await store.problems.findById(created._id));
        } catch (error) {
          assert.ok(isAppError(error) && error.code === "VALIDATION_FAILED", String(error));
        }
      });

      it("lists newest first with pagination, totals and a difficulty filter", async () => {
        const db = await harness.newDatabase();
        const s = await db.open();
        try {
          const empty = await s.problems.list({ page: 1, limit: 20 });
          assert.deepEqual(empty, { items: [], total: 0 });
          const created = [];
          for (const difficulty of ["easy", "hard", "easy", "medium", "hard"] as const) {
            created.push(await s.problems.create(problemInput({ title: `p-${created.length}`, difficulty })));
          }
          const newestFirst = created.map((p) => p._id).reverse();

          const page1 = await s.problems.list({ page: 1, limit: 2 });
          assert.equal(page1.total, 5);
          assert.deepEqual(page1.items.map((p) => p._id), newestFirst.slice(0, 2));
          const page3 = await s.problems.list({ page: 3, limit: 2 });
          assert.deepEqual(page3.items.map((p) => p._id), newestFirst.slice(4));
          const beyond = await s.problems.list({ page: 9, limit: 2 });
          assert.deepEqual(beyond, { items: [], total: 5 });

          const hard = await s.problems.list({ page: 1, limit: 10, difficulty: "hard" });
          assert.equal(hard.total, 2);
          assert.deepEqual(hard.items.map((p) => p.title), ["p-4", "p-1"]);
          const all = await s.problems.list({ page: 1, limit: 10, difficulty: undefined });
          assert.equal(all.total, 5);
          for (const item of all.items) assert.doesNotThrow(() => problemSchema.parse(item));
        } finally {
          await s.close();
          await db.drop();
        }
      });

      it("replace (PUT) rewrites every field but _id and createdAt, dropping absent optionals", async () => {
        const created = await store.problems.create(problemInput({ memoryLimitMb: 128, runAllTests: true }));
        await new Promise((resolve) => setTimeout(resolve, 5));
        const next = problemInputSchema.parse({
          title: "Replaced",
          description: "New text",
          difficulty: "hard",
          testCases: [{ input: "a", output: "b" }],
        });
        const replaced = await store.problems.replace(created._id, next);
        assert.ok(replaced);
        assert.equal(replaced._id, created._id);
        assert.equal(replaced.createdAt, created.createdAt);
        assert.ok(Date.parse(replaced.updatedAt) > Date.parse(created.updatedAt));
        assert.equal(replaced.title, "Replaced");
        assert.equal(replaced.difficulty, "hard");
        assert.deepEqual(replaced.testCases, [{ input: "a", output: "b", hidden: false }]);
        assert.deepEqual(replaced.codeStubs, []);
        for (const key of ["editorial", "timeLimitMs", "memoryLimitMb", "checker", "runAllTests"] as const) {
          assert.ok(!(key in replaced), `${key} removed by PUT`);
        }
        assert.deepEqual(await store.problems.findById(created._id), replaced);
        assert.equal(await store.problems.replace(newObjectId(), next), null);
      });

      it("update (PATCH) changes only the given fields", async () => {
        const created = await store.problems.create(problemInput());
        const updated = await store.problems.update(created._id, { title: "Patched", memoryLimitMb: 64 });
        assert.ok(updated);
        assert.equal(updated.title, "Patched");
        assert.equal(updated.memoryLimitMb, 64);
        assert.equal(updated.description, created.description);
        assert.deepEqual(updated.testCases, created.testCases);
        assert.deepEqual(updated.codeStubs, created.codeStubs);
        assert.equal(updated.editorial, created.editorial);
        assert.equal(updated.createdAt, created.createdAt);
        const again = await store.problems.update(created._id, { testCases: [{ input: "q", output: "r", hidden: true }] });
        assert.deepEqual(again?.testCases, [{ input: "q", output: "r", hidden: true }]);
        assert.equal(again?.title, "Patched");
        assert.equal(await store.problems.update(newObjectId(), { title: "x" }), null);
      });

      it("keeps testSet = { sha256 of the tests' canonical encoding, count } current on create, PUT and PATCH", async () => {
        const tests = [
          { input: "1 2\n", output: "3\n", hidden: false },
          { input: "\u{1F600} é\r\n", output: "x".repeat(70_000), hidden: true },
        ];
        const created = await store.problems.create(problemInput({ testCases: tests, checker: undefined }));
        assert.deepEqual(created.testSet, { hash: testSetHash(tests), count: 2 }, "the default checker: the tests' hash alone");
        assert.deepEqual((await store.problems.findById(created._id))?.testSet, created.testSet, "read back: same hash");
        const titled = await store.problems.update(created._id, { title: "same tests" });
        assert.deepEqual(titled?.testSet, created.testSet, "a patch without tests keeps the hash");
        const retested = await store.problems.update(created._id, { testCases: [tests[0]!] });
        assert.deepEqual(retested?.testSet, { hash: testSetHash([tests[0]!]), count: 1 });
        assert.notEqual(retested?.testSet.hash, created.testSet.hash);
        const replaced = await store.problems.replace(created._id, problemInput({ testCases: tests, checker: undefined }));
        assert.deepEqual(replaced?.testSet, created.testSet, "same content, same hash");
        const flipped = await store.problems.replace(created._id, problemInput({ testCases: tests.map((t) => ({ ...t, hidden: !t.hidden })), checker: undefined }));
        assert.notEqual(flipped?.testSet.hash, created.testSet.hash, "visibility is part of the content");
        assert.deepEqual((await store.problems.list({ page: 1, limit: 100 })).items.find((p) => p._id === created._id)?.testSet, flipped?.testSet);
      });

      it("keeps reference solution, language limits and groups; the test-set version covers the checker and groups", async () => {
        const custom = { type: "custom" as const, protocol: "kattis" as const, language: "PYTHON" as const, source: "import sys\nsys.exit(42)\n", files: [{ name: "util.py", content: "X = 1\n" }] };
        const input = problemInput({
          testCases: [{ input: "1", output: "1", hidden: true, group: "small" }, { input: "2", output: "2", hidden: true, group: "big" }],
          groups: [{ name: "small", points: 40 }, { name: "big", points: 60, dependencies: ["small"] }],
          referenceSolution: { language: "PYTHON", code: "print(input())" },
          languageLimits: { PYTHON: { timeLimitMs: 6_000 }, JAVA: { memoryLimitMb: 512 } },
          checker: custom,
        });
        const created = await store.problems.create(input);
        const read = await store.problems.findById(created._id);
        assert.deepEqual(read?.groups, input.groups);
        assert.deepEqual(read?.testCases.map((t) => t.group), ["small", "big"]);
        assert.deepEqual(read?.referenceSolution, input.referenceSolution);
        assert.deepEqual(read?.languageLimits, input.languageLimits);
        assert.deepEqual(read?.checker, custom);
        assert.equal(created.testSet.hash, testSetContentHash({ tests: read!.testCases, checker: custom, groups: input.groups }));
        assert.notEqual(created.testSet.hash, testSetHash(read!.testCases), "a custom checker is part of the version");
        // A PATCH of the checker alone is a new version; so is one of the groups alone.
        const rechecked = await store.problems.update(created._id, { checker: { ...custom, source: "import sys\nsys.exit(43)\n" } });
        assert.notEqual(rechecked?.testSet.hash, created.testSet.hash);
        const regrouped = await store.problems.update(created._id, { groups: [{ name: "small", points: 50 }, { name: "big", points: 50 }] });
        assert.notEqual(regrouped?.testSet.hash, rechecked?.testSet.hash);
        // A group is part of a test's content even with the default checker and no groups declared.
        assert.notEqual(testSetHash([{ input: "1", output: "1", hidden: true, group: "a" }]), testSetHash([{ input: "1", output: "1", hidden: true }]));
      });

      it("deletes a problem once", async () => {
        const created = await store.problems.create(problemInput());
        assert.equal(await store.problems.delete(created._id), true);
        assert.equal(await store.problems.findById(created._id), null);
        assert.equal(await store.problems.delete(created._id), false);
      });

      it("answers null/false for malformed ids instead of throwing", async () => {
        for (const id of INVALID_IDS) {
          assert.equal(await store.problems.findById(id), null, id);
          assert.equal(await store.problems.replace(id, problemInput()), null, id);
          assert.equal(await store.problems.update(id, { title: "x" }), null, id);
          assert.equal(await store.problems.delete(id), false, id);
        }
      });
    });

    describe("submissions", () => {
      it("creates a Pending submission and finds it by id", async () => {
        const input = newSubmission({ userId: "creator" });
        const created = await store.submissions.create(input);
        assert.doesNotThrow(() => submissionSchema.parse(created));
        assert.match(created._id, /^[0-9a-f]{24}$/);
        assert.equal(created.status, "Pending");
        assert.equal(created.userId, "creator");
        assert.equal(created.problemId, input.problemId);
        assert.equal(created.language, "PYTHON");
        assert.equal(created.code, "print(1)");
        assert.equal(created.passed, 0);
        assert.equal(created.total, 2);
        assert.deepEqual(created.results, []);
        assert.equal(created.timeMs, null);
        assert.equal(created.memoryKb, null);
        assert.equal(created.compileOutput, null);
        assert.equal(created.failedTest, null);
        assert.deepEqual(await store.submissions.findById(created._id), created);
        assert.equal(await store.submissions.findById(newObjectId()), null);
      });

      it("lists only the caller's submissions, newest first, by problem, with pagination", async () => {
        const me = `me-${newObjectId()}`;
        const problemA = newObjectId();
        const problemB = newObjectId();
        const mine = [];
        for (let i = 0; i < 5; i++) {
          mine.push(await store.submissions.create(newSubmission({ userId: me, problemId: i % 2 === 0 ? problemA : problemB, code: `c${i}` })));
          await store.submissions.create(newSubmission({ userId: `other-${newObjectId()}`, problemId: problemA }));
        }
        const newestFirst = mine.map((s) => s._id).reverse();

        const all = await store.submissions.listByUser(me, { page: 1, limit: 20 });
        assert.equal(all.total, 5);
        assert.deepEqual(all.items.map((s) => s._id), newestFirst);
        assert.ok(all.items.every((s) => s.userId === me));

        const page2 = await store.submissions.listByUser(me, { page: 2, limit: 2 });
        assert.equal(page2.total, 5);
        assert.deepEqual(page2.items.map((s) => s._id), newestFirst.slice(2, 4));

        const forA = await store.submissions.listByUser(me, { page: 1, limit: 20, problemId: problemA });
        assert.equal(forA.total, 3);
        assert.deepEqual(forA.items.map((s) => s.code), ["c4", "c2", "c0"]);
        const forAPage = await store.submissions.listByUser(me, { page: 2, limit: 2, problemId: problemA });
        assert.deepEqual(forAPage.items.map((s) => s.code), ["c0"]);
        assert.equal(forAPage.total, 3);

        assert.deepEqual(await store.submissions.listByUser(me, { page: 1, limit: 20, problemId: newObjectId() }), { items: [], total: 0 });
        assert.deepEqual(await store.submissions.listByUser(`nobody-${newObjectId()}`, { page: 1, limit: 20 }), { items: [], total: 0 });
      });

      it("markRunning moves Pending/Running to Running with counters", async () => {
        const created = await store.submissions.create(newSubmission());
        const running = await store.submissions.markRunning(created._id, { passed: 0, total: 2 });
        // Only the progress view (no code, no results): what the progress notification is built from.
        assert.deepEqual(running, { _id: created._id, userId: created.userId, status: "Running", passed: 0, total: 2 });
        const progressed = await store.submissions.markRunning(created._id, { passed: 1, total: 2 });
        assert.equal(progressed?.status, "Running");
        assert.equal(progressed?.passed, 1);
        assert.equal((await store.submissions.findById(created._id))?.passed, 1);
        assert.equal(await store.submissions.markRunning(newObjectId(), { passed: 0, total: 1 }), null);
      });

      it("markRunning ignores a progress event older than the stored one (results are consumed concurrently)", async () => {
        const created = await store.submissions.create(newSubmission());
        await store.submissions.markRunning(created._id, { passed: 2, total: 3 });
        assert.equal(await store.submissions.markRunning(created._id, { passed: 1, total: 3 }), null);
        assert.equal((await store.submissions.findById(created._id))?.passed, 2);
        assert.equal((await store.submissions.markRunning(created._id, { passed: 2, total: 3 }))?.passed, 2, "a repeat is harmless");
      });

      it("finalize writes the verdict once; a replay never changes or regresses it", async () => {
        const created = await store.submissions.create(newSubmission());
        await store.submissions.markRunning(created._id, { passed: 1, total: 2 });
        const first = await store.submissions.finalize(created._id, verdict());
        assert.ok(first);
        assert.equal(first.applied, true);
        assert.equal(first.submission.status, "WA");
        assert.equal(first.submission.passed, 1);
        assert.equal(first.submission.timeMs, 12);
        assert.equal(first.submission.memoryKb, 2048);
        assert.deepEqual(first.submission.results, verdict().results);
        assert.deepEqual(first.submission.failedTest, verdict().failedTest);
        assert.equal(first.submission.code, created.code);
        assert.equal(first.submission.createdAt, created.createdAt);

        const replay = await store.submissions.finalize(created._id, verdict({ status: "Success", passed: 2, failedTest: null }));
        assert.ok(replay);
        assert.equal(replay.applied, false);
        assert.deepEqual(replay.submission, first.submission, "stored state returned unchanged");

        assert.equal(await store.submissions.markRunning(created._id, { passed: 0, total: 2 }), null, "a late progress event cannot regress");
        // A progress event counting more passed tests than the verdict (the evaluator's "passed so far"
        // raced ahead of a WA written by a replayed job) must not reopen a final submission either.
        assert.equal(await store.submissions.markRunning(created._id, { passed: 2, total: 2 }), null, "a final status is never reopened");
        assert.deepEqual(await store.submissions.findById(created._id), first.submission);
      });

      it("finalize from Pending (e.g. a compile error) stores compile output and message", async () => {
        const created = await store.submissions.create(newSubmission());
        const result = await store.submissions.finalize(
          created._id,
          verdict({ status: "CE", passed: 0, timeMs: null, memoryKb: null, results: [], failedTest: null, compileOutput: "error: x", message: "compilation failed" }),
        );
        assert.equal(result?.applied, true);
        assert.equal(result?.submission.status, "CE");
        assert.equal(result?.submission.compileOutput, "error: x");
        assert.equal(result?.submission.message, "compilation failed");
        assert.equal(result?.submission.failedTest, null);
      });

      it("concurrent finalize calls: exactly one is applied and all see the same final state", async () => {
        const created = await store.submissions.create(newSubmission());
        const statuses = ["Success", "WA", "TLE", "MLE", "RE", "OLE", "IE", "WA", "Success", "TLE"] as const;
        const results = await Promise.all(statuses.map((status) => store.submissions.finalize(created._id, verdict({ status }))));
        const applied = results.filter((r) => r?.applied);
        assert.equal(applied.length, 1);
        const winner = applied[0]!.submission;
        for (const r of results) assert.deepEqual(r?.submission, winner);
        assert.deepEqual(await store.submissions.findById(created._id), winner);
      });

      it("finalize of an unknown id is null; a verdict with a non-final status is refused", async () => {
        assert.equal(await store.submissions.finalize(newObjectId(), verdict()), null);
        const created = await store.submissions.create(newSubmission());
        await assert.rejects(store.submissions.finalize(created._id, { ...verdict(), status: "Running" } as unknown as VerdictFields), isValidationError);
        assert.equal((await store.submissions.findById(created._id))?.status, "Pending");
      });

      it("refuses writes the read path could not parse back, as VALIDATION_FAILED", async () => {
        await assert.rejects(store.submissions.create(newSubmission({ problemId: "not-an-id" })), isValidationError);
        await assert.rejects(store.submissions.create(newSubmission({ total: -1 })), isValidationError);
        const created = await store.submissions.create(newSubmission());
        await assert.rejects(store.submissions.markRunning(created._id, { passed: -1, total: 2 }), isValidationError);
        await assert.rejects(store.submissions.markRunning(created._id, { passed: 0.5, total: 2 }), isValidationError);
        await assert.rejects(store.submissions.finalize(created._id, verdict({ passed: -3 })), isValidationError);
        assert.equal((await store.submissions.findById(created._id))?.status, "Pending");

        await assert.rejects(store.problems.create({ ...problemInput(), timeLimitMs: 1.5 }), isValidationError);
        await assert.rejects(store.problems.create({ ...problemInput(), testCases: [] }), isValidationError);
        const problem = await store.problems.create(problemInput());
        await assert.rejects(store.problems.update(problem._id, {}), isValidationError);
        await assert.rejects(store.problems.replace(problem._id, { ...problemInput(), title: "" }), isValidationError);
        assert.deepEqual(await store.problems.findById(problem._id), problem);
      });

      it("deletes a submission once", async () => {
        const created = await store.submissions.create(newSubmission());
        assert.equal(await store.submissions.delete(created._id), true);
        assert.equal(await store.submissions.findById(created._id), null);
        assert.equal(await store.submissions.delete(created._id), false);
        assert.equal(await store.submissions.finalize(created._id, verdict()), null);
      });

      it("listActive pages through Pending/Running submissions oldest first, created before the cutoff, without final ones", async () => {
        const userId = `scan-${newObjectId()}`;
        const a = await store.submissions.create(newSubmission({ userId }));
        const b = await store.submissions.create(newSubmission({ userId }));
        const c = await store.submissions.create(newSubmission({ userId }));
        await store.submissions.markRunning(c._id, { passed: 0, total: 2 });
        await store.submissions.finalize(b._id, verdict());
        const cutoff = new Date(Date.now() + 1_000).toISOString();
        const seen: string[] = [];
        let after: { createdAt: string; id: string } | undefined;
        for (let page = 0; page < 10_000; page++) {
          const items = await store.submissions.listActive({ createdBefore: cutoff, after, limit: 1 });
          if (items.length === 0) break;
          const item = items[0]!;
          if (after) assert.ok(item.createdAt > after.createdAt || (item.createdAt === after.createdAt && item._id > after.id), "strictly after the cursor");
          if (item.userId === userId) seen.push(`${item._id}:${item.status}`);
          after = { createdAt: item.createdAt, id: item._id };
        }
        assert.deepEqual(seen, [`${a._id}:Pending`, `${c._id}:Running`]);
        const before = await store.submissions.listActive({ createdBefore: a.createdAt, limit: 1_000 });
        assert.ok(!before.some((item) => item.userId === userId), "created at or after the cutoff: not listed");
        const [first] = await store.submissions.listActive({ createdBefore: cutoff, limit: 1_000 }).then((items) => items.filter((i) => i._id === a._id));
        assert.deepEqual(first, { _id: a._id, userId, problemId: a.problemId, status: "Pending", createdAt: a.createdAt, updatedAt: a.updatedAt });
      });

      it("countActiveByUser counts only that user's Pending/Running submissions", async () => {
        const userId = `count-${newObjectId()}`;
        assert.equal(await store.submissions.countActiveByUser(userId), 0);
        const [one, two, three] = await Promise.all([1, 2, 3].map(() => store.submissions.create(newSubmission({ userId }))));
        await store.submissions.create(newSubmission({ userId: `${userId}-other` }));
        await store.submissions.markRunning(one!._id, { passed: 0, total: 2 });
        await store.submissions.finalize(two!._id, verdict());
        assert.equal(await store.submissions.countActiveByUser(userId), 2);
        await store.submissions.finalize(three!._id, verdict());
        assert.equal(await store.submissions.countActiveByUser(userId), 1);
      });

      it("answers null/false for malformed ids instead of throwing", async () => {
        for (const id of INVALID_IDS) {
          assert.equal(await store.submissions.findById(id), null, id);
          assert.equal(await store.submissions.markRunning(id, { passed: 0, total: 1 }), null, id);
          assert.equal(await store.submissions.finalize(id, verdict()), null, id);
          assert.equal(await store.submissions.delete(id), false, id);
          assert.deepEqual(await store.submissions.listByUser("user-1", { page: 1, limit: 5, problemId: id }), { items: [], total: 0 });
        }
      });
    });

    describe("lifecycle", () => {
      it("pings", async () => {
        await store.ping();
      });

      it("persists across reopen; the second start (migrations already applied) is a no-op", { skip: !harness.persistent && "in-memory database: nothing to reopen" }, async () => {
        const db = await harness.newDatabase();
        try {
          const first = await db.open();
          const problem = await first.problems.create(problemInput());
          const submission = await first.submissions.create(newSubmission({ problemId: problem._id }));
          const final = await first.submissions.finalize(submission._id, verdict());
          await first.close();

          const second = await db.open();
          try {
            // The finalize counted the WA in the problem's stats.
            assert.deepEqual(await second.problems.findById(problem._id), { ...problem, stats: { submissions: 1, accepted: 0, acceptanceRate: 0 } });
            assert.deepEqual(await second.submissions.findById(submission._id), final?.submission);
            assert.equal((await second.problems.list({ page: 1, limit: 10 })).total, 1);
          } finally {
            await second.close();
          }
          const third = await db.open();
          await third.close();
        } finally {
          await db.drop();
        }
      });

      it("two stores starting at once on a new database both succeed and share data", { skip: !harness.concurrentOpen && "single-process database" }, async () => {
        const db = await harness.newDatabase();
        try {
          const stores = await Promise.all([db.open(), db.open(), db.open()]);
          try {
            const [a, b] = stores as [Store, Store, Store];
            const problem = await a.problems.create(problemInput());
            assert.deepEqual(await b.problems.findById(problem._id), problem);
            const submission = await b.submissions.create(newSubmission());
            const results = await Promise.all(stores.map((s, i) => s.submissions.finalize(submission._id, verdict({ status: i === 0 ? "Success" : "WA" }))));
            assert.equal(results.filter((r) => r?.applied).length, 1, "exactly one finalize applied across processes");
          } finally {
            await Promise.all(stores.map((s) => s.close()));
          }
        } finally {
          await db.drop();
        }
      });
    });
  });
}
