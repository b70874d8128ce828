// POST /api/v1/problems/:id/rejudge when submission-service is not there: a 503 naming it,
// in the envelope, never a 500; and the client re-parses what an answering service sends.
// (The route end to end, with the real submission-service, is apps/platform/test/rejudge.test.ts.)
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createStore, type Store } from "@sonocode/store";
import { createRejudgeClient } from "../src/index.js";
import { TEST_JWT_SECRET, sampleProblem, startTestServer, type TestServer } from "./test-server.helper.js";

async function post(server: TestServer, id: string, token = server.adminToken) {
  const response = await fetch(`${server.baseUrl}/api/v1/problems/${id}/rejudge`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as { success: boolean; error: { code?: string; details?: { component?: string } }; data: unknown } };
}

describe("rejudge route without a reachable submission-service", () => {
  const servers: TestServer[] = [];
  let unreachableUrl: string;
  let store: Store;
  // A port held for the whole file, every connection to it cut at once: a service as good as
  // down. (A port merely freed again could be taken by another test file's server, which then
  // answered: seen in CI.)
  const cutter = createNetServer((socket) => socket.destroy());
  before(async () => {
    // One PGlite for both servers: its start-up is most of this file's time.
    store = await createStore({ kind: "pglite", dataDir: null });
    cutter.listen(0, "127.0.0.1");
    await new Promise((resolve) => cutter.once("listening", resolve));
    unreachableUrl = `http://127.0.0.1:${(cutter.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await new Promise((resolve) => cutter.close(resolve));
    await store.close();
  });

  it("not configured: 503 DEPENDENCY_UNAVAILABLE after the admin and problem checks", async () => {
    const server = await startTestServer({ store });
    servers.push(server);
    const problem = await server.store.problems.create(sampleProblem());
    assert.equal((await post(server, problem._id, server.userToken)).status, 403);
    assert.equal((await post(server, "0".repeat(24))).status, 404);
    const answer = await post(server, problem._id);
    assert.equal(answer.status, 503);
    assert.equal(answer.body.success, false);
    assert.equal(answer.body.error.code, "DEPENDENCY_UNAVAILABLE");
    assert.equal(answer.body.error.details?.component, "submission-service");
    // The progress route: the same checks, then the same 503.
    const progressOf = async (rejudgeId: string, method = "GET", token = server.adminToken) => {
      const response = await fetch(`${server.baseUrl}/api/v1/problems/${problem._id}/rejudges/${rejudgeId}`, { method, headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as { error: { code?: string; details?: { component?: string } } } };
    };
    assert.equal((await progressOf("0".repeat(24), "GET", server.userToken)).status, 403);
    assert.equal((await progressOf("not-an-id")).body.error.code, "INVALID_ID");
    assert.equal((await progressOf("0".repeat(24), "POST")).status, 405);
    const progress = await progressOf("0".repeat(24));
    assert.equal(progress.status, 503);
    assert.equal(progress.body.error.details?.component, "submission-service");
  });

  it("submission-service down, or answering nonsense: 503 naming it", async () => {
    const down = await startTestServer({ store, deps: { rejudge: createRejudgeClient({ baseUrl: unreachableUrl, jwtSecret: TEST_JWT_SECRET, timeoutMs: 2_000 }) } });
    servers.push(down);
    const problem = await down.store.problems.create(sampleProblem());
    const answer = await post(down, problem._id);
    assert.equal(answer.status, 503);
    assert.equal(answer.body.error.details?.component, "submission-service");
    const client = createRejudgeClient({ baseUrl: unreachableUrl, jwtSecret: TEST_JWT_SECRET, timeoutMs: 2_000 });
    await assert.rejects(client.find("0".repeat(24)), (error: { code?: string }) => error.code === "DEPENDENCY_UNAVAILABLE");

    const liar = createServer((_req, res) => {
      res.writeHead(202, { "content-type": "application/json" });
      res.end(JSON.stringify({ success: true, message: "ok", error: {}, data: { _id: "0".repeat(24), queued: -1 } }));
    }).listen(0, "127.0.0.1");
    await new Promise((resolve) => liar.once("listening", resolve));
    try {
      const client = createRejudgeClient({ baseUrl: `http://127.0.0.1:${(liar.address() as AddressInfo).port}`, jwtSecret: TEST_JWT_SECRET });
      await assert.rejects(client.rejudge(problem._id), (error: { code?: string }) => error.code === "DEPENDENCY_UNAVAILABLE");
    } finally {
      await new Promise((resolve) => liar.close(resolve));
    }
  });
});
