// Connection-class failures leave the store as one typed error (DATABASE_UNAVAILABLE),
// on PGlite and on a real PostgreSQL server whose connection is cut or wedged, and
// within the deadlines that keep an HTTP request under ~10 s.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { isAppError } from "@sonocode/errors";
import { createTestDatabase } from "@sonocode/testkit";
import { createStore, isConnectionError, isDatabaseUnavailable, newObjectId, type Store } from "../src/index.js";
import { startFaultProxy } from "./tcp-fault.proxy.js";
import { newSubmission } from "./store.contract.js";

async function rejectsUnavailable(promise: Promise<unknown>, withinMs: number): Promise<void> {
  const started = Date.now();
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isDatabaseUnavailable(error), `expected DATABASE_UNAVAILABLE, got ${String(error)}`);
    assert.equal((error as { status: number }).status, 503);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < withinMs, `rejected after ${elapsed} ms (limit ${withinMs} ms)`);
}

describe("isConnectionError", () => {
  it("recognises network errors, connection SQLSTATEs, pool timeouts, PGlite closed and MongoDB outages", () => {
    const errors: unknown[] = [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      Object.assign(new Error("timeout"), { code: "ETIMEDOUT" }),
      Object.assign(new Error("connection failure"), { code: "08006" }),
      Object.assign(new Error("could not connect"), { code: "08001" }),
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      Object.assign(new Error("crash shutdown"), { code: "57P02" }),
      Object.assign(new Error("the database system is starting up"), { code: "57P03" }),
      Object.assign(new Error("sorry, too many clients already"), { code: "53300" }),
      Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" }),
      new Error("timeout exceeded when trying to connect"),
      new Error("Connection terminated unexpectedly"),
      new Error("Query read timeout"),
      new Error("PGlite is closed"),
      Object.assign(new Error("Server selection timed out after 10000 ms"), { name: "MongoServerSelectionError" }),
      Object.assign(new Error("connection 1 to 127.0.0.1:27017 closed"), { name: "MongoNetworkError" }),
      new AggregateError([Object.assign(new Error("refused"), { code: "ECONNREFUSED" })], "all addresses failed"),
      new Error("wrapped", { cause: Object.assign(new Error("x"), { code: "ECONNRESET" }) }),
    ];
    for (const error of errors) assert.ok(isConnectionError(error), String(error));
  });

  it("leaves everything else alone: constraint violations, bad text, programming errors", () => {
    const errors: unknown[] = [
      Object.assign(new Error("duplicate key"), { code: "23505" }),
      Object.assign(new Error("invalid byte sequence"), { code: "22021" }),
      Object.assign(new Error("syntax error"), { code: "42601" }),
      new TypeError("cannot read properties of undefined"),
      "ECONNREFUSED",
      null,
    ];
    for (const error of errors) assert.ok(!isConnectionError(error), String(error));
  });
});

describe("PGlite closed", () => {
  it("every repository call and ping reject with DATABASE_UNAVAILABLE", async () => {
    const store = await createStore({ kind: "pglite", dataDir: null });
    await store.close();
    await rejectsUnavailable(store.problems.findById(newObjectId()), 1_000);
    await rejectsUnavailable(store.problems.list({ page: 1, limit: 5 }), 1_000);
    await rejectsUnavailable(store.submissions.create(newSubmission()), 1_000);
    await rejectsUnavailable(store.submissions.listByUser("u", { page: 1, limit: 5 }), 1_000);
    await rejectsUnavailable(store.ping(), 1_000);
  });

  it("input the database refuses is still a 400 VALIDATION_FAILED, not an outage", async () => {
    const store = await createStore({ kind: "pglite", dataDir: null });
    try {
      await assert.rejects(store.submissions.create(newSubmission({ code: "print(1)\u0000" })), (error: unknown) => {
        assert.ok(isAppError(error) && error.code === "VALIDATION_FAILED", String(error));
        return true;
      });
    } finally {
      await store.close();
    }
  });
});

describe("PostgreSQL server behind a cut or wedged connection", () => {
  const stores: Store[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    for (const cleanup of cleanups) await cleanup();
  });

  async function proxiedStore() {
    const database = await createTestDatabase("outage");
    cleanups.push(database.drop);
    const url = new URL(database.url);
    const proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
    cleanups.push(() => proxy.close());
    url.port = String(proxy.port);
    const store = await createStore({ kind: "postgres", url: url.toString() });
    stores.push(store);
    return { store, proxy };
  }

  it("server down: fast DATABASE_UNAVAILABLE on reads, writes and ping; recovers when it is back", async () => {
    const { store, proxy } = await proxiedStore();
    const created = await store.submissions.create(newSubmission());

    await proxy.set("down");
    await rejectsUnavailable(store.submissions.findById(created._id), 2_000);
    await rejectsUnavailable(store.submissions.finalize(created._id, { status: "IE", passed: 0, total: 2, timeMs: null, memoryKb: null, results: [], compileOutput: null, failedTest: null, message: "x" }), 2_000);
    await rejectsUnavailable(store.problems.list({ page: 1, limit: 5 }), 2_000);
    await rejectsUnavailable(store.ping(), 2_000);

    await proxy.set("up");
    assert.equal((await store.submissions.findById(created._id))?.status, "Pending");
  });

  it("server wedged (accepts, never answers): DATABASE_UNAVAILABLE within 10 s, not a hang", async () => {
    const { store, proxy } = await proxiedStore();
    const created = await store.submissions.create(newSubmission());
    await proxy.set("blackhole");
    // The pooled connection goes silent (query timeout), a new one never completes its handshake (connect timeout).
    await Promise.all([
      rejectsUnavailable(store.submissions.findById(created._id), 10_000),
      rejectsUnavailable(store.submissions.listByUser("user-1", { page: 1, limit: 5 }), 10_000),
    ]);
    await proxy.set("down");
    await proxy.set("up");
    assert.equal((await store.submissions.findById(created._id))?._id, created._id);
  });
});
