// Redis outages on the producer side: the answer is a fast 503 and no half-written state.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createStore, type Store } from "@sonocode/store";
import { freePort, startPrivateRedis } from "@sonocode/testkit";
import { bearer, startHarness, type Harness } from "./harness.js";

const harnesses: Harness[] = [];
const redisServers: Array<{ kill(): Promise<void> }> = [];
let store: Store;
before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
});
after(async () => {
  for (const redis of redisServers) await redis.kill();
  for (const h of harnesses) await h.close();
  await store.close();
});

async function submitAndExpect503(h: Harness, userId: string): Promise<void> {
  const started = Date.now();
  const response = await h.app.inject({
    method: "POST",
    url: "/api/v1/submissions",
    headers: await bearer(userId),
    payload: { problemId: h.problem._id, language: "PYTHON", code: "print(1)" },
  });
  assert.equal(response.statusCode, 503, response.body);
  const body = response.json();
  assert.equal(body.success, false);
  assert.equal(body.error.code, "QUEUE_UNAVAILABLE");
  assert.ok(Date.now() - started < 5_000, "the 503 is fast");
  // Nothing half-written: the Pending row was removed again.
  const left = await h.store.submissions.listByUser(userId, { page: 1, limit: 10 });
  assert.equal(left.total, 0);
}

describe("submission queue outage", () => {
  test("producer pointed at a closed port: 503 QUEUE_UNAVAILABLE, no submission row left, /health is 503", async () => {
    const port = await freePort();
    const h = await startHarness("outage", { redisUrl: `redis://127.0.0.1:${port}`, enqueueTimeoutMs: 1_000, store });
    harnesses.push(h);
    await submitAndExpect503(h, "victim");

    const health = await h.app.inject({ method: "GET", url: "/health" });
    assert.equal(health.statusCode, 503);
    const body = health.json();
    assert.equal(body.success, false);
    assert.equal(body.error.code, "DEPENDENCY_UNAVAILABLE");
    assert.equal(body.data.checks.database, "ok");
    assert.match(body.data.checks.redis, /^down/);
  });

  test("Redis dies after start: the next submission is a fast 503 and leaves nothing behind", async () => {
    const redis = await startPrivateRedis();
    redisServers.push(redis);

    const h = await startHarness("outage-late", { redisUrl: redis.url, enqueueTimeoutMs: 1_000, store });
    harnesses.push(h);
    const ok = await h.app.inject({
      method: "POST",
      url: "/api/v1/submissions",
      headers: await bearer("early"),
      payload: { problemId: h.problem._id, language: "PYTHON", code: "print(1)" },
    });
    assert.equal(ok.statusCode, 201, ok.body);

    await redis.kill();
    await submitAndExpect503(h, "late");
  });
});
