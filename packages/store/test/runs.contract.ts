// The runs repository's contract, for every adapter (runs.<adapter>.test.ts call it).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runSchema, type NewRun, type RunVerdict } from "@sonocode/contracts";
import { isAppError } from "@sonocode/errors";
import { newObjectId, type Store } from "../src/index.js";

export interface RunsHarness {
  open(): Promise<Store>;
  drop(): Promise<void>;
}

const HOUR = 3_600_000;

export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  const now = Date.now();
  return {
    userId: "user-1",
    problemId: newObjectId(),
    language: "PYTHON",
    deadlineAt: new Date(now + 10 * 60_000).toISOString(),
    expiresAt: new Date(now + 24 * HOUR).toISOString(),
    ...overrides,
  };
}

export function runVerdict(overrides: Partial<RunVerdict> = {}): RunVerdict {
  return {
    status: "WA",
    compileOutput: null,
    results: [{ index: 0, input: "1 2\n", output: "4\n", expected: "3\n", status: "WA", timeMs: 12, memoryKb: 2048 }],
    message: null,
    ...overrides,
  };
}

const ie: RunVerdict = { status: "IE", compileOutput: null, results: [], message: "lost" };

export function runsContract(name: string, makeDatabase: () => Promise<RunsHarness>): void {
  describe(`runs repository: ${name}`, () => {
    let database: RunsHarness;
    let store: Store;
    before(async () => {
      database = await makeDatabase();
      store = await database.open();
    });
    after(async () => {
      await store?.close();
      await database?.drop();
    });

    it("creates a Pending run with a fresh id and reads it back in the contract's shape", async () => {
      const input = newRun();
      const run = await store.runs.create(input);
      assert.equal(runSchema.safeParse(run).success, true);
      assert.equal(run.status, "Pending");
      assert.deepEqual(run.results, []);
      assert.equal(run.compileOutput, null);
      assert.equal(run.expiresAt, input.expiresAt);
      assert.deepEqual(await store.runs.findById(run._id), run);
      assert.equal(await store.runs.findById(newObjectId()), null);
      assert.equal(await store.runs.findById("not-an-id"), null);
    });

    it("finalizes once: a replayed or later result leaves the first one", async () => {
      const run = await store.runs.create(newRun());
      const first = await store.runs.finalize(run._id, runVerdict());
      assert.equal(first?.applied, true);
      assert.equal(first?.run.status, "WA");
      assert.deepEqual(first?.run.results, runVerdict().results);
      const again = await store.runs.finalize(run._id, runVerdict({ status: "Success" }));
      assert.equal(again?.applied, false);
      assert.equal(again?.run.status, "WA");
      assert.equal(await store.runs.finalize(newObjectId(), runVerdict()), null);
    });

    it("refuses a verdict that is not final or holds unstorable text (VALIDATION_FAILED), writing nothing", async () => {
      const run = await store.runs.create(newRun());
      await assert.rejects(store.runs.finalize(run._id, { ...runVerdict(), status: "Pending" as never }), (error) => isAppError(error) && error.code === "VALIDATION_FAILED");
      await assert.rejects(store.runs.finalize(run._id, runVerdict({ message: "nul\u0000" })), (error) => isAppError(error) && error.code === "VALIDATION_FAILED");
      assert.equal((await store.runs.findById(run._id))?.status, "Pending");
    });

    it("counts a user's active runs only", async () => {
      const userId = `counter-${newObjectId()}`;
      const a = await store.runs.create(newRun({ userId }));
      await store.runs.create(newRun({ userId }));
      await store.runs.create(newRun({ userId: `${userId}-other` }));
      assert.equal(await store.runs.countActiveByUser(userId), 2);
      await store.runs.finalize(a._id, runVerdict());
      assert.equal(await store.runs.countActiveByUser(userId), 1);
    });

    it("delete removes a run once", async () => {
      const run = await store.runs.create(newRun());
      assert.equal(await store.runs.delete(run._id), true);
      assert.equal(await store.runs.delete(run._id), false);
      assert.equal(await store.runs.findById(run._id), null);
    });

    it("listOverdue pages the active runs past their deadline, by deadline then id, and writes nothing", async () => {
      const now = new Date().toISOString();
      // Two share a deadline, so the page boundary falls between runs the id alone orders.
      const deadlines = [-90_000, -60_000, -60_000, -30_000].map((ms) => new Date(Date.parse(now) + ms).toISOString());
      const overdue = [];
      for (const deadlineAt of deadlines) overdue.push(await store.runs.create(newRun({ deadlineAt })));
      const finished = await store.runs.create(newRun({ deadlineAt: deadlines[0]! }));
      await store.runs.finalize(finished._id, runVerdict({ status: "Success" }));
      assert.ok((await store.runs.finalize(overdue[3]!._id, ie))?.applied === true, "made IE before the listing");
      const stillActive = overdue.slice(0, 3);
      const onTime = await store.runs.create(newRun());

      // Other tests' runs may be overdue too: only this test's, in order, are compared.
      const mine = new Set([...overdue, finished, onTime].map((run) => run._id));
      const seen: string[] = [];
      let after: { deadlineAt: string; id: string } | undefined;
      for (let pages = 0; pages < 1_000; pages++) {
        const page = await store.runs.listOverdue(now, 2, after);
        assert.ok(page.length <= 2);
        seen.push(...page.map((run) => run._id).filter((id) => mine.has(id)));
        if (page.length < 2) break;
        const last = page[page.length - 1]!;
        after = { deadlineAt: last.deadlineAt, id: last._id };
      }
      const expected = [...stillActive].sort((x, y) => x.deadlineAt.localeCompare(y.deadlineAt) || x._id.localeCompare(y._id)).map((run) => run._id);
      assert.deepEqual(seen, expected, "each active overdue run once, in order; final and on-time ones never");
      for (const run of stillActive) assert.equal((await store.runs.findById(run._id))?.status, "Pending", "read only");
    });

    it("deleteExpired removes runs past their expiry and keeps the others", async () => {
      const gone = await store.runs.create(newRun({ expiresAt: new Date(Date.now() - 1_000).toISOString() }));
      const kept = await store.runs.create(newRun());
      assert.ok((await store.runs.deleteExpired(new Date().toISOString())) >= 1);
      assert.equal(await store.runs.findById(gone._id), null);
      assert.notEqual(await store.runs.findById(kept._id), null);
    });
  });
}
