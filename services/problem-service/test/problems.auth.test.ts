import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signToken } from "@sonocode/auth";
import { problemSchema, publicProblemSchema, type Problem } from "@sonocode/contracts";
import { call, sampleProblem, startTestServer, TEST_JWT_SECRET, type TestServer } from "./test-server.helper.js";

describe("problem-service auth and visibility", () => {
  let server: TestServer;
  let problem: Problem;
  before(async () => {
    server = await startTestServer();
    const created = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: sampleProblem() });
    assert.equal(created.status, 201, created.text);
    problem = problemSchema.parse(created.body.data);
    // A second problem so the list carries more than one hidden set.
    await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: sampleProblem({ difficulty: "hard" }) });
  });
  after(async () => {
    await server.close();
  });

  async function badTokens(): Promise<[string, Record<string, string>][]> {
    return [
      ["no header", {}],
      ["empty bearer", { authorization: "Bearer " }],
      ["not bearer", { authorization: `Basic ${Buffer.from("admin:admin").toString("base64")}` }],
      ["garbage", { authorization: "Bearer not.a.jwt" }],
      ["wrong secret", { authorization: `Bearer ${await signToken({ sub: "a", role: "admin" }, "another-secret-that-is-long-enough-000")}` }],
      ["expired", { authorization: `Bearer ${await signToken({ sub: "a", role: "admin" }, TEST_JWT_SECRET, Math.floor(Date.now() / 1000) - 60)}` }],
    ];
  }

  it("writes without a valid token are 401; with a user token 403; nothing changes", async () => {
    const id = problem._id;
    const writes = [
      ["POST", "/api/v1/problems", sampleProblem()],
      ["PUT", `/api/v1/problems/${id}`, sampleProblem({ title: "hijacked" })],
      ["PATCH", `/api/v1/problems/${id}`, { title: "hijacked" }],
      ["DELETE", `/api/v1/problems/${id}`, undefined],
    ] as const;
    for (const [method, path, json] of writes) {
      for (const [label, headers] of await badTokens()) {
        const res = await call(server, method, path, { headers, json });
        assert.equal(res.status, 401, `${method} ${label}: ${res.text}`);
        assert.deepEqual(res.body.error, { code: "UNAUTHORIZED" });
      }
      const forbidden = await call(server, method, path, { token: server.userToken, json });
      assert.equal(forbidden.status, 403, `${method} as user: ${forbidden.text}`);
      assert.deepEqual(forbidden.body.error, { code: "FORBIDDEN" });
    }
    const list = await call(server, "GET", "/api/v1/problems", { token: server.adminToken });
    assert.equal((list.body.data as { pagination: { total: number } }).pagination.total, 2, "no write went through");
    const still = await call(server, "GET", `/api/v1/problems/${id}`, { token: server.adminToken });
    assert.deepEqual(still.body.data, problem);
  });

  it("a GET with a present but invalid token is 401, not a silent downgrade to the public view", async () => {
    for (const [label, headers] of (await badTokens()).slice(1)) {
      const res = await call(server, "GET", `/api/v1/problems/${problem._id}`, { headers });
      assert.equal(res.status, 401, label);
    }
  });

  it("anonymous and user readers never see hidden tests or the editorial (get and list)", async () => {
    const hidden = problem.testCases.filter((t) => t.hidden);
    assert.equal(hidden.length, 1);
    for (const token of [undefined, server.userToken]) {
      const who = token ? "user" : "anonymous";
      const one = await call(server, "GET", `/api/v1/problems/${problem._id}`, { token });
      assert.equal(one.status, 200);
      const view = publicProblemSchema.strict().parse(one.body.data);
      assert.deepEqual(view.testCases, [{ input: "1 2", output: "3", hidden: false }], who);
      assert.equal(view.totalTestCases, 2);
      assert.equal("editorial" in (one.body.data as object), false, `${who}: editorial leaked`);

      const list = await call(server, "GET", "/api/v1/problems?limit=100", { token });
      assert.equal(list.status, 200);
      const data = list.body.data as { problems: unknown[] };
      assert.equal(data.problems.length, 2);
      for (const item of data.problems) publicProblemSchema.strict().parse(item);

      // Belt and braces: the hidden markers appear nowhere in the raw bytes.
      for (const text of [one.text, list.text]) {
        assert.doesNotMatch(text, /HIDDEN-(INPUT|OUTPUT)|EDITORIAL-SECRET/, `${who}: leak in ${text.slice(0, 200)}`);
      }
    }
  });

  it("admins get the full document with hidden tests", async () => {
    const serviceToken = await signToken({ sub: "admin-2", role: "admin" }, TEST_JWT_SECRET, "600s");
    const one = await call(server, "GET", `/api/v1/problems/${problem._id}`, { token: serviceToken });
    assert.equal(one.status, 200);
    const full = problemSchema.parse(one.body.data);
    assert.deepEqual(full.testCases, problem.testCases);
    assert.equal(full.editorial, problem.editorial);

    const list = await call(server, "GET", "/api/v1/problems", { token: serviceToken });
    const items = (list.body.data as { problems: unknown[] }).problems.map((p) => problemSchema.parse(p));
    assert.ok(items.every((p) => p.testCases.some((t) => t.hidden) && p.editorial));
  });

  it("tokens never reach the logs", async () => {
    await call(server, "GET", "/api/v1/problems", { token: server.userToken });
    const logs = server.rawLogs();
    assert.ok(logs.length > 0);
    assert.equal(logs.includes(server.adminToken), false);
    assert.equal(logs.includes(server.userToken), false);
    assert.doesNotMatch(logs, /HIDDEN-INPUT|EDITORIAL-SECRET|Bearer/);
  });
});
