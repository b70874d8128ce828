import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStore, type Store } from "@sonocode/store";
import { call, sampleProblem, startTestServer, type TestServer } from "./test-server.helper.js";

describe("problem-service health and server errors", () => {
  // One store for the health servers: PGlite start-up dominates these tests otherwise.
  let shared: Store;
  before(async () => {
    shared = await createStore({ kind: "pglite", dataDir: null });
  });
  after(async () => {
    await shared.close();
  });

  it("GET /health is 200 with the checks when every dependency answers", async () => {
    const server = await startTestServer({ store: shared, deps: { health: async () => ({ database: "ok" }) } });
    try {
      const res = await call(server, "GET", "/health");
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, { status: "ok", checks: { database: "ok" } });
    } finally {
      await server.close();
    }
  });

  it("GET /health is 503 DEPENDENCY_UNAVAILABLE when a check fails or throws", async () => {
    for (const health of [async () => ({ database: "unreachable" }), async (): Promise<Record<string, string>> => Promise.reject(new Error("boom"))]) {
      const server = await startTestServer({ store: shared, deps: { health } });
      try {
        const res = await call(server, "GET", "/health");
        assert.equal(res.status, 503, res.text);
        assert.equal(res.body.success, false);
        assert.equal(res.body.error.code, "DEPENDENCY_UNAVAILABLE");
        assert.doesNotMatch(res.text, /boom/, "a thrown reason is not echoed");
      } finally {
        await server.close();
      }
    }
  });

  describe("when a bug fails a request (a database outage is a 503: problems.outage.test.ts)", () => {
    let store: Store;
    let server: TestServer;
    before(async () => {
      const real = await createStore({ kind: "pglite", dataDir: null });
      // The real store with one repository method broken the way a programming error breaks it.
      const problems = Object.create(real.problems) as Store["problems"];
      problems.create = async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'title')");
      };
      store = { ...real, kind: real.kind, ping: () => real.ping(), close: () => real.close(), submissions: real.submissions, problems };
      server = await startTestServer({ store });
    });
    after(async () => {
      await server.close();
      await store.close().catch(() => undefined);
    });

    it("answers 500 'internal error' with an error id, and logs the error under err with that id", async () => {
      const res = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: sampleProblem() });
      assert.equal(res.status, 500);
      assert.equal(res.body.message, "internal error");
      assert.equal(res.body.error.code, "INTERNAL");
      const errorId = (res.body.error as { details: { errorId: string } }).details.errorId;
      assert.match(errorId, /^[0-9a-f-]{36}$/);
      assert.deepEqual(Object.keys(res.body.error.details as object), ["errorId"], "nothing but the id leaks");

      const line = server.logs.find((entry) => entry.errorId === errorId);
      assert.ok(line, "the error is logged with the same id");
      assert.equal(line.level, 50);
      assert.ok((line.err as { message?: string } | undefined)?.message, "logged under err");
      assert.equal(typeof line.reqId, "string");
      assert.doesNotMatch(server.rawLogs(), /HIDDEN-INPUT|EDITORIAL-SECRET/, "the body is never logged");
    });
  });
});
