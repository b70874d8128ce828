// The database goes away under a running problem-service: every endpoint, GETs
// included, answers 503 DATABASE_UNAVAILABLE (with Retry-After) instead of a 500,
// and /health names the database. The store is a real PGlite that is closed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStore, type Store } from "@sonocode/store";
import { call, sampleProblem, startTestServer, type TestServer } from "./test-server.helper.js";

let store: Store;
let server: TestServer;
let problemId: string;

before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
  server = await startTestServer({
    store,
    deps: {
      health: async () => {
        try {
          await store.ping();
          return { database: "ok" };
        } catch {
          return { database: "unreachable" };
        }
      },
    },
  });
  const created = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: sampleProblem() });
  assert.equal(created.status, 201);
  problemId = (created.body.data as { _id: string })._id;
  await store.close();
});

after(async () => {
  await server.close();
});

describe("problem-service while the database is down", () => {
  it("every endpoint answers 503 DATABASE_UNAVAILABLE with Retry-After, never 500", async () => {
    const requests: [string, string, { token?: string; json?: unknown }][] = [
      ["GET", "/api/v1/problems", {}],
      ["GET", "/api/v1/problems?difficulty=easy&page=2", { token: server.userToken }],
      ["GET", `/api/v1/problems/${problemId}`, {}],
      ["GET", `/api/v1/problems/${problemId}`, { token: server.adminToken }],
      ["POST", "/api/v1/problems", { token: server.adminToken, json: sampleProblem() }],
      ["PUT", `/api/v1/problems/${problemId}`, { token: server.adminToken, json: sampleProblem() }],
      ["PATCH", `/api/v1/problems/${problemId}`, { token: server.adminToken, json: { title: "renamed" } }],
      ["DELETE", `/api/v1/problems/${problemId}`, { token: server.adminToken }],
    ];
    for (const [method, path, options] of requests) {
      const started = Date.now();
      const response = await call(server, method, path, options);
      assert.equal(response.status, 503, `${method} ${path}: ${response.text}`);
      assert.equal((response.body.error as { code: string }).code, "DATABASE_UNAVAILABLE", `${method} ${path}`);
      assert.equal((response.body.error as { details: { component: string } }).details.component, "database");
      assert.equal(response.headers.get("retry-after"), "5");
      assert.ok(Date.now() - started < 2_000, `${method} ${path} answered fast`);
    }
  });

  it("bad input is still judged first: a malformed id is 400, an anonymous write 401", async () => {
    assert.equal((await call(server, "GET", "/api/v1/problems/not-an-id", {})).status, 400);
    assert.equal((await call(server, "POST", "/api/v1/problems", { json: sampleProblem() })).status, 401);
  });

  it("/health is 503 and names the database", async () => {
    const response = await call(server, "GET", "/health");
    assert.equal(response.status, 503);
    assert.equal((response.body.data as { checks: Record<string, string> }).checks.database, "unreachable");
  });
});
