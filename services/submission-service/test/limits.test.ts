// Per-user limits on POST /api/v1/submissions over real Redis and PGlite: a per-minute
// rate shared by replicas, an in-flight cap, admins exempt, 429 with Retry-After, and
// queue fairness (a user's k-th submission in flight waits behind everyone's first).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { QUEUES } from "@sonocode/contracts";
import { createStore, type Store } from "@sonocode/store";
import { uniqueName } from "@sonocode/testkit";
import { Worker } from "bullmq";
import { bearer, startHarness, type Harness } from "./harness.js";

let store: Store;
const harnesses: Harness[] = [];
before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
});
after(async () => {
  for (const h of harnesses) await h.close();
  await store.close();
});

async function harness(options: Parameters<typeof startHarness>[1]): Promise<Harness> {
  const h = await startHarness("limits", { store, ...options });
  harnesses.push(h);
  return h;
}

async function submit(h: Harness, userId: string, role: "user" | "admin" = "user") {
  return h.app.inject({
    method: "POST",
    url: "/api/v1/submissions",
    headers: await bearer(userId, role),
    payload: { problemId: h.problem._id, language: "PYTHON", code: "print(1)" },
  });
}

describe("per-user limits", () => {
  test("per minute: the cap holds across two replicas on one Redis, per user, with 429 TOO_MANY_REQUESTS and Retry-After; admins are exempt", async () => {
    const prefix = uniqueName("limits-rate");
    const [a, b] = [await harness({ prefix, limits: { perMinute: 3 } }), await harness({ prefix, limits: { perMinute: 3 } })];
    const user = `rate-${randomUUID()}`;
    assert.equal((await submit(a, user)).statusCode, 201);
    assert.equal((await submit(b, user)).statusCode, 201);
    assert.equal((await submit(a, user)).statusCode, 201);

    const refused = await submit(b, user);
    assert.equal(refused.statusCode, 429, refused.body);
    const body = refused.json();
    assert.equal(body.success, false);
    assert.equal(body.error.code, "TOO_MANY_REQUESTS");
    assert.equal(body.error.details.limit, "per-minute");
    const retryAfter = Number(refused.headers["retry-after"]);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers["retry-after"]}`);
    // A refused request leaves nothing behind.
    assert.equal((await store.submissions.listByUser(user, { page: 1, limit: 10 })).total, 3);

    assert.equal((await submit(a, `other-${randomUUID()}`)).statusCode, 201, "another user is not affected");
    for (let i = 0; i < 5; i++) assert.equal((await submit(b, `admin-${user}`, "admin")).statusCode, 201, "admins are exempt");
  });

  test("in flight: a user with the maximum of non-final submissions gets 429 until one is final; admins are exempt", async () => {
    const h = await harness({ limits: { maxInFlight: 2 } });
    const user = `flight-${randomUUID()}`;
    const first = await submit(h, user);
    assert.equal(first.statusCode, 201);
    assert.equal((await submit(h, user)).statusCode, 201);

    const refused = await submit(h, user);
    assert.equal(refused.statusCode, 429, refused.body);
    assert.equal(refused.json().error.code, "TOO_MANY_REQUESTS");
    assert.equal(refused.json().error.details.limit, "in-flight");
    assert.equal(refused.headers["retry-after"], "5");

    const id = first.json().data.submission._id as string;
    await store.submissions.finalize(id, { status: "Success", passed: 2, total: 2, timeMs: 1, memoryKb: 1, results: [], compileOutput: null, failedTest: null, message: null });
    assert.equal((await submit(h, user)).statusCode, 201, "a final verdict frees a slot");
    for (let i = 0; i < 3; i++) assert.equal((await submit(h, `admin-${user}`, "admin")).statusCode, 201);
  });

  test("fairness: one user's burst is queued behind another user's first submission", async () => {
    const h = await harness({});
    const [burst, other] = [`burst-${randomUUID()}`, `other-${randomUUID()}`];
    const ids: Record<string, string> = {};
    for (let i = 1; i <= 3; i++) ids[(await submit(h, burst)).json().data.submission._id] = `${burst}#${i}`;
    ids[(await submit(h, other)).json().data.submission._id] = `${other}#1`;

    const worker = new Worker(QUEUES.submission, null, { connection: { url: h.redisUrl, maxRetriesPerRequest: null }, prefix: h.prefix });
    try {
      const order: string[] = [];
      const token = randomUUID();
      for (let i = 0; i < 4; i++) {
        const job = await worker.getNextJob(token);
        assert.ok(job);
        order.push(ids[job.id!]!);
        await job.moveToCompleted("done", token, false);
      }
      // The other user's first submission is judged after at most one of the burst (the one already first in line).
      assert.deepEqual(order, [`${burst}#1`, `${other}#1`, `${burst}#2`, `${burst}#3`]);
    } finally {
      await worker.close();
    }
  });
});
