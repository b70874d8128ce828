// The internal (service-token) endpoints: judging view, content-addressed test sets, who may call them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signServiceToken } from "@sonocode/auth";
import { judgingProblemSchema, problemSchema, publicProblemSchema, testSetSchema, type Problem } from "@sonocode/contracts";
import { testSetHash } from "@sonocode/contracts/test-set-hash";
import { call, sampleProblem, startTestServer, TEST_JWT_SECRET, type TestServer } from "./test-server.helper.js";

describe("internal endpoints", () => {
  let server: TestServer;
  let problem: Problem;
  let serviceToken: string;
  before(async () => {
    server = await startTestServer();
    const created = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: sampleProblem() });
    problem = problemSchema.parse(created.body.data);
    serviceToken = await signServiceToken("submission-service", TEST_JWT_SECRET);
  });
  after(() => server.close());

  it("only a service token passes; user and admin tokens get 403, none 401", async () => {
    for (const path of [`/internal/v1/problems/${problem._id}`, `/internal/v1/problems/${problem._id}/test-set/${problem.testSet.hash}`]) {
      assert.equal((await call(server, "GET", path)).status, 401, path);
      assert.equal((await call(server, "GET", path, { token: server.userToken })).status, 403, path);
      assert.equal((await call(server, "GET", path, { token: server.adminToken })).status, 403, path);
      assert.equal((await call(server, "GET", path, { token: serviceToken })).status, 200, path);
    }
  });

  it("user and admin endpoints refuse a service token (403): it is no admin", async () => {
    assert.equal((await call(server, "GET", `/api/v1/problems/${problem._id}`, { token: serviceToken })).status, 403);
    assert.equal((await call(server, "POST", "/api/v1/problems", { token: serviceToken, json: sampleProblem() })).status, 403);
    assert.equal((await call(server, "DELETE", `/api/v1/problems/${problem._id}`, { token: serviceToken })).status, 403);
  });

  it("the judging view has the test-set reference and no tests; the public view has no hash", async () => {
    const view = await call(server, "GET", `/internal/v1/problems/${problem._id}`, { token: serviceToken });
    const judging = judgingProblemSchema.strict().parse(view.body.data);
    assert.deepEqual(judging.testSet, { hash: testSetHash(problem.testCases), count: problem.testCases.length });
    assert.ok(!view.text.includes(problem.testCases[1]!.input), "no test data in the judging view");
    const anonymous = await call(server, "GET", `/api/v1/problems/${problem._id}`);
    assert.ok(!("testSet" in publicProblemSchema.parse(anonymous.body.data)));
    assert.ok(!anonymous.text.includes(problem.testSet.hash));
  });

  it("serves the tests by hash; an edited problem answers 409 with the current hash; unknown is 404; a bad hash 400", async () => {
    const first = await call(server, "GET", `/internal/v1/problems/${problem._id}/test-set/${problem.testSet.hash}`, { token: serviceToken });
    const testSet = testSetSchema.parse(first.body.data);
    assert.deepEqual(testSet.tests, problem.testCases);
    assert.equal(testSetHash(testSet.tests), problem.testSet.hash);
    assert.match(first.headers.get("cache-control") ?? "", /immutable/);

    const edited = await call(server, "PATCH", `/api/v1/problems/${problem._id}`, {
      token: server.adminToken,
      json: { testCases: [{ input: "9 9\n", output: "18\n", hidden: true }] },
    });
    const current = problemSchema.parse(edited.body.data).testSet.hash;
    assert.notEqual(current, problem.testSet.hash);
    const stale = await call(server, "GET", `/internal/v1/problems/${problem._id}/test-set/${problem.testSet.hash}`, { token: serviceToken });
    assert.equal(stale.status, 409);
    assert.deepEqual(stale.body.error, { code: "CONFLICT", details: { reason: "TEST_SET_CHANGED", currentHash: current, count: 1 } });

    const missing = await call(server, "GET", `/internal/v1/problems/${"f".repeat(24)}/test-set/${current}`, { token: serviceToken });
    assert.equal(missing.status, 404);
    const bad = await call(server, "GET", `/internal/v1/problems/${problem._id}/test-set/..%2F..%2Fetc`, { token: serviceToken });
    assert.equal(bad.status, 400);
  });

  it("the OpenAPI document describes both internal routes with the service scheme", async () => {
    const response = await fetch(`${server.baseUrl}/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, { get?: { security?: unknown } }> };
    for (const path of ["/internal/v1/problems/{id}", "/internal/v1/problems/{id}/test-set/{hash}"]) {
      assert.deepEqual(document.paths[path]?.get?.security, [{ serviceAuth: [] }], path);
    }
  });
});
