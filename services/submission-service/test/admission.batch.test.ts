// The POST path's group commit (issue 9, domain/admission.batcher.ts) over real databases:
// one statement per batch (caps and insert: admitMany), the in-flight cap stays exact for one
// user's concurrent POSTs, a row the database refuses fails only itself (its batch-mates are
// admitted again alone, in order, and stored), and a database that dies just before a batch's
// statement leaves nothing half-written: every POST is either
// 201 with its row and its job, or 503 with neither. PGlite, and a PostgreSQL server of this
// file's own (stopped for real, pg_ctl -m immediate).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { AuthClaims, NewSubmission } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { createStore, databaseUnavailable, type Store, type SubmissionRepository } from "@sonocode/store";
import { startPrivatePostgres, testRedisUrl, uniqueName, type PrivatePostgres } from "@sonocode/testkit";
import type { FastifyInstance } from "fastify";
import { buildSubmissionApp, createProblemClient, createSubmissionQueue, type SubmissionQueueHandle } from "../src/index.js";
import { createAdmissionBatcher } from "../src/domain/admission.batcher.js";
import { JWT_SECRET, bearer, sampleProblem, startProblemService } from "./harness.js";

const NUL_CODE = "print('\u0000')";

/** The store with every admitMany call recorded (its inputs and whether it threw), and an optional hook before it runs. */
function recording(store: Store) {
  const batches: { inputs: NewSubmission[]; failed: boolean }[] = [];
  let beforeAdmit: (() => Promise<void>) | undefined;
  const submissions: SubmissionRepository = {
    ...store.submissions,
    admitMany: async (requests, maxInFlight) => {
      const record = { inputs: requests.map((request) => request.input), failed: false };
      batches.push(record);
      await beforeAdmit?.();
      try {
        return await store.submissions.admitMany(requests, maxInFlight);
      } catch (error) {
        record.failed = true;
        throw error;
      }
    },
  };
  const wrapped: Store = { ...store, submissions };
  return {
    store: wrapped,
    batches,
    onAdmit(hook: (() => Promise<void>) | undefined) {
      beforeAdmit = hook;
    },
  };
}

const EXP = Math.floor(Date.now() / 1_000) + 3_600;

function user(sub: string, role: AuthClaims["role"] = "user"): AuthClaims {
  return { sub, role, exp: EXP };
}

function input(userId: string, code = "print(1)"): NewSubmission {
  return { userId, problemId: "0123456789abcdef01234567", language: "PYTHON", code, total: 2 };
}

describe("admission batcher on PGlite", () => {
  let store: Store;
  before(async () => {
    store = await createStore({ kind: "pglite", dataDir: null });
  });
  after(async () => store.close());

  test("one user's concurrent POSTs in one batch: exactly the cap is admitted, in arrival order, each with its place in line", async () => {
    const { store: recorded, batches } = recording(store);
    const batcher = createAdmissionBatcher({ store: recorded, maxInFlight: 3 });
    const sub = `cap-${randomUUID()}`;
    await store.submissions.createMany([input(sub)]);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => batcher.admit(user(sub), input(sub, `print(${i})`))));
    assert.equal(batches.length, 1, "admits of one turn share one statement (caps and insert)");
    const admitted = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    assert.deepEqual(
      admitted.map((a) => [a.submission.code, a.inFlight]),
      [["print(0)", 1], ["print(1)", 2]],
      "one was already in flight: the first two of the batch fill the cap",
    );
    for (const outcome of outcomes.slice(2)) {
      assert.equal(outcome.status, "rejected");
      assert.equal((outcome.reason as { code?: string }).code, "TOO_MANY_REQUESTS");
    }
    assert.equal(await store.submissions.countActiveByUser(sub), 3);
    // Admins are exempt but still get their place in line.
    const admin = await Promise.all([0, 1, 2, 3].map(() => batcher.admit(user(sub, "admin"), input(sub))));
    assert.deepEqual(admin.map((a) => a.inFlight), [3, 4, 5, 6]);
  });

  test("a batch with one row the database refuses: the batch is rolled back, every row retried alone, only that one fails", async () => {
    const { store: recorded, batches } = recording(store);
    const batcher = createAdmissionBatcher({ store: recorded, maxInFlight: 0 });
    const sub = `nul-${randomUUID()}`;
    const codes = ["print(1)", "print(2)", NUL_CODE, "print(4)", "print(5)"];
    const outcomes = await Promise.allSettled(codes.map((code) => batcher.admit(user(sub), input(sub, code))));
    assert.deepEqual(
      batches.map((b) => [b.inputs.length, b.failed]),
      [[5, true], [1, false], [1, false], [1, true], [1, false], [1, false]],
      "the batch's statement was refused as a whole, then each row was admitted alone",
    );
    outcomes.forEach((outcome, i) => {
      if (i === 2) {
        assert.equal(outcome.status, "rejected");
        assert.equal((outcome.reason as { code?: string }).code, "VALIDATION_FAILED");
      } else {
        assert.equal(outcome.status, "fulfilled", String(i));
        assert.equal(outcome.value.submission.code, codes[i]);
      }
    });
    const stored = await store.submissions.listByUser(sub, { page: 1, limit: 10 });
    assert.deepEqual(stored.items.map((s) => s.code).sort(), ["print(1)", "print(2)", "print(4)", "print(5)"]);
  });

  test("a refused row first in a capped batch: the others are admitted alone in arrival order, and the cap is met exactly", async () => {
    const { store: recorded, batches } = recording(store);
    const batcher = createAdmissionBatcher({ store: recorded, maxInFlight: 2 });
    const sub = `refused-cap-${randomUUID()}`;
    const codes = [NUL_CODE, "print(1)", "print(2)", "print(3)"];
    const outcomes = await Promise.allSettled(codes.map((code) => batcher.admit(user(sub), input(sub, code))));
    assert.deepEqual(batches.map((b) => [b.inputs.length, b.failed]), [[4, true], [1, true], [1, false], [1, false], [1, false]], "the batch, then each row alone");
    assert.deepEqual(
      outcomes.map((o) => (o.status === "fulfilled" ? [o.value.submission.code, o.value.inFlight] : (o.reason as { code?: string }).code)),
      ["VALIDATION_FAILED", ["print(1)", 0], ["print(2)", 1], "TOO_MANY_REQUESTS"],
      "the refused row takes no place: two admitted, the fourth refused",
    );
    assert.equal(await store.submissions.countActiveByUser(sub), 2);
  });

  test("a failing admission statement fails its batch and writes nothing; the next batch is served", async () => {
    const sub = `fail-${randomUUID()}`;
    let fail = true;
    const flaky: Store = {
      ...store,
      submissions: {
        ...store.submissions,
        admitMany: async (requests, max) => {
          if (fail) throw databaseUnavailable(new Error("database gone"));
          return store.submissions.admitMany(requests, max);
        },
      },
    };
    const batcher = createAdmissionBatcher({ store: flaky, maxInFlight: 5 });
    const failed = await Promise.allSettled([batcher.admit(user(sub), input(sub)), batcher.admit(user(sub), input(sub))]);
    assert.deepEqual(failed.map((o) => o.status), ["rejected", "rejected"]);
    assert.equal(await store.submissions.countActiveByUser(sub), 0);
    fail = false;
    assert.equal((await batcher.admit(user(sub), input(sub))).inFlight, 0);
  });
});

describe("POST over a PostgreSQL server that fails mid-batch", () => {
  let server: PrivatePostgres;
  let store: Store;
  let problemStore: Store;
  let problems: { baseUrl: string; close(): Promise<void> };
  let queue: SubmissionQueueHandle;
  let app: FastifyInstance;
  let problemId: string;
  let recorder: ReturnType<typeof recording>;

  before(async () => {
    server = await startPrivatePostgres();
    store = await createStore({ kind: "postgres", url: await server.createDatabase("admission") });
    // problem-service keeps its own store: only submission-service's database goes away.
    problemStore = await createStore({ kind: "pglite", dataDir: null });
    problems = await startProblemService(problemStore);
    problemId = (await problemStore.problems.create(sampleProblem()))._id;
    queue = createSubmissionQueue({ redisUrl: testRedisUrl(), prefix: uniqueName("admission") });
    recorder = recording(store);
    app = await buildSubmissionApp({
      store: recorder.store,
      problems: createProblemClient({ baseUrl: problems.baseUrl, jwtSecret: JWT_SECRET, timeoutMs: 5_000 }),
      submissionQueue: queue.queue,
      jwtSecret: JWT_SECRET,
      logger: silentLogger(),
      limits: { perMinute: 0, maxInFlight: 100 },
    });
  });

  after(async () => {
    await app.close();
    await queue.queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await problems.close();
    await problemStore.close();
    await store.close();
    await server.dispose();
  });

  const post = async (sub: string, code: string) =>
    app.inject({ method: "POST", url: "/api/v1/submissions", headers: await bearer(sub), payload: { problemId, language: "PYTHON", code } });

  test("a row with NUL among concurrent POSTs: 400 for it alone, 201 with row and job for every other", async () => {
    const sub = `pg-nul-${randomUUID()}`;
    const codes = Array.from({ length: 8 }, (_, i) => (i === 3 ? NUL_CODE : `print(${i})`));
    const responses = await Promise.all(codes.map((code) => post(sub, code)));
    responses.forEach((response, i) => assert.equal(response.statusCode, i === 3 ? 400 : 201, `${i}: ${response.body}`));
    assert.equal(responses[3]!.json().error.code, "VALIDATION_FAILED");
    const ids = responses.filter((r) => r.statusCode === 201).map((r) => r.json().data.submission._id as string);
    for (const id of ids) assert.ok(await queue.queue.getJob(id), `job for ${id}`);
    const stored = await store.submissions.listByUser(sub, { page: 1, limit: 20 });
    assert.deepEqual(stored.items.map((s) => s._id).sort(), [...ids].sort());
  });

  test("the server stopped just before a batch's admission: each POST is 201 with its row and job, or 503 with neither", async () => {
    const sub = `pg-down-${randomUUID()}`;
    let stopped = false;
    let restarted = false;
    recorder.onAdmit(async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    });
    try {
      const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => post(sub, `print(${i})`)));
      const accepted = responses.filter((r) => r.statusCode === 201);
      const refused = responses.filter((r) => r.statusCode === 503);
      assert.equal(accepted.length + refused.length, responses.length, responses.map((r) => `${r.statusCode} ${r.body}`).join("\n"));
      assert.ok(refused.length > 0, "the batch that met the stopped server was refused");
      for (const response of refused) assert.equal(response.json().error.code, "DATABASE_UNAVAILABLE");
      assert.ok(
        recorder.batches.some((batch) => batch.failed && batch.inputs.length > 1) || refused.length === 1,
        "the stop hit a batch, not a lone POST (or the turn carried one POST only)",
      );
      await server.start();
      restarted = true;
      const acceptedIds = accepted.map((r) => r.json().data.submission._id as string).sort();
      const stored = await store.submissions.listByUser(sub, { page: 1, limit: 50 });
      assert.deepEqual(stored.items.map((s) => s._id).sort(), acceptedIds, "rows are exactly the accepted POSTs'");
      const jobs = (await queue.queue.getJobs(["waiting", "prioritized", "delayed", "active"])).filter((job) => job?.data.userId === sub);
      assert.deepEqual(jobs.map((job) => job.id).sort(), acceptedIds, "jobs are exactly the accepted POSTs'");
    } finally {
      recorder.onAdmit(undefined);
      if (stopped && !restarted) await server.start().catch(() => undefined);
    }
    // Back up: accepted again.
    assert.equal((await post(sub, "print('again')")).statusCode, 201);
  });
});
