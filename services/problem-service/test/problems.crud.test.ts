import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { problemSchema } from "@sonocode/contracts";
import { call, sampleProblem, startTestServer, type TestServer } from "./test-server.helper.js";

describe("problem-service CRUD over HTTP (PGlite)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it("GET /ping answers pong in the envelope, with a request id header", async () => {
    const res = await call(server, "GET", "/ping");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true, message: "pong", error: {}, data: { pong: true } });
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  });

  it("creates, reads, replaces, patches and deletes a problem (admin)", async () => {
    const input = sampleProblem({
      codeStubs: [{ language: "python" as "PYTHON", startSnippet: "", userSnippet: "pass", endSnippet: "" }],
      timeLimitMs: 1000,
    });
    const created = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: input });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.success, true);
    const problem = problemSchema.parse(created.body.data);
    assert.match(problem._id, /^[0-9a-f]{24}$/);
    assert.equal(problem.title, input.title);
    assert.equal(problem.codeStubs[0]?.language, "PYTHON", "language is stored uppercase");
    assert.equal(problem.testCases.length, 2);
    assert.equal(problem.editorial, input.editorial);
    assert.equal(problem.timeLimitMs, 1000);

    const fetched = await call(server, "GET", `/api/v1/problems/${problem._id}`, { token: server.adminToken });
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.body.data, created.body.data);

    // Uppercase hex is the same id.
    const upper = await call(server, "GET", `/api/v1/problems/${problem._id.toUpperCase()}`, { token: server.adminToken });
    assert.equal(upper.status, 200);

    const replacement = sampleProblem({ title: "Replaced", difficulty: "hard" });
    const replaced = await call(server, "PUT", `/api/v1/problems/${problem._id}`, { token: server.adminToken, json: replacement });
    assert.equal(replaced.status, 200, replaced.text);
    const afterPut = problemSchema.parse(replaced.body.data);
    assert.equal(afterPut._id, problem._id);
    assert.equal(afterPut.title, "Replaced");
    assert.equal(afterPut.difficulty, "hard");
    assert.equal(afterPut.timeLimitMs, undefined, "PUT replaces every field: the old time limit is gone");
    assert.equal(afterPut.createdAt, problem.createdAt);

    const patched = await call(server, "PATCH", `/api/v1/problems/${problem._id}`, {
      token: server.adminToken,
      json: { difficulty: "medium" },
    });
    assert.equal(patched.status, 200, patched.text);
    const afterPatch = problemSchema.parse(patched.body.data);
    assert.equal(afterPatch.difficulty, "medium");
    assert.equal(afterPatch.title, "Replaced", "PATCH keeps the other fields");
    assert.deepEqual(afterPatch.testCases, afterPut.testCases);
    // Regression: zod 4 applied codeStubs' default inside .partial(), so every PATCH wiped the stubs.
    assert.equal(afterPut.codeStubs.length, 1);
    assert.deepEqual(afterPatch.codeStubs, afterPut.codeStubs);

    const deleted = await call(server, "DELETE", `/api/v1/problems/${problem._id}`, { token: server.adminToken });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body.data, { _id: problem._id });

    const gone = await call(server, "GET", `/api/v1/problems/${problem._id}`, { token: server.adminToken });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body.error, { code: "PROBLEM_NOT_FOUND" });
    assert.deepEqual(gone.body.data, {});
  });

  it("unknown ids are 404 PROBLEM_NOT_FOUND for every verb; malformed ids are 400 INVALID_ID", async () => {
    const missing = "0123456789abcdef01234567";
    const body = sampleProblem();
    for (const [method, json] of [["GET", undefined], ["PUT", body], ["PATCH", { title: "x" }], ["DELETE", undefined]] as const) {
      const res = await call(server, method, `/api/v1/problems/${missing}`, { token: server.adminToken, json });
      assert.equal(res.status, 404, `${method}: ${res.text}`);
      assert.equal(res.body.success, false);
      assert.deepEqual(res.body.error, { code: "PROBLEM_NOT_FOUND" });
    }
    for (const bad of ["123", "zzzzzzzzzzzzzzzzzzzzzzzz", "0123456789abcdef012345678", "%20", "null"]) {
      const res = await call(server, "GET", `/api/v1/problems/${bad}`);
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
      assert.deepEqual(res.body.error, { code: "INVALID_ID" });
    }
  });

  it("a known path with a wrong method is 405 with Allow, OPTIONS is 204 with Allow; an unknown route is 404 ROUTE_NOT_FOUND", async () => {
    const res = await call(server, "POST", "/api/v1/problems/0123456789abcdef01234567", { token: server.adminToken, json: {} });
    assert.equal(res.status, 405);
    assert.equal(res.body.error.code, "METHOD_NOT_ALLOWED");
    assert.equal(res.headers.get("allow"), "GET, HEAD, PUT, PATCH, DELETE");

    // OPTIONS says what a known path takes (204 + Allow, as submission-service answers it).
    const options = await fetch(`${server.baseUrl}/api/v1/problems`, { method: "OPTIONS" });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get("allow"), "GET, HEAD, POST, OPTIONS");
    assert.equal(await options.text(), "");
    const itemOptions = await fetch(`${server.baseUrl}/api/v1/problems/0123456789abcdef01234567`, { method: "OPTIONS" });
    assert.equal(itemOptions.status, 204);
    assert.equal(itemOptions.headers.get("allow"), "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");

    for (const path of ["/", "/api/v1/nope", "/api/v2/problems", "/api/v1/problems/a/b"]) {
      const notFound = await call(server, "GET", path);
      assert.equal(notFound.status, 404, path);
      assert.deepEqual(notFound.body.error, { code: "ROUTE_NOT_FOUND" });
      assert.equal(notFound.body.success, false);
    }
  });

  it("GET /openapi.json is an OpenAPI 3.1 document generated from the contracts", async () => {
    const response = await fetch(`${server.baseUrl}/openapi.json`);
    assert.equal(response.status, 200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(Object.keys(doc.paths["/api/v1/problems/{id}"] ?? {}).sort(), ["delete", "get", "parameters", "patch", "put"]);
    assert.ok(doc.paths["/api/v1/problems"]?.post);
    const input = doc.components.schemas.ProblemInput;
    assert.ok(input?.properties?.testCases, "ProblemInput comes from problemInputSchema");
    assert.deepEqual(input?.required?.sort(), ["description", "difficulty", "testCases", "title"]);
    assert.ok(doc.components.schemas.PublicProblem?.properties?.totalTestCases);
    // Every $ref resolves inside the document.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? "");
    assert.ok(refs.length > 5);
    for (const ref of refs) assert.ok(doc.components.schemas[ref], `dangling $ref ${ref}`);
  });
});
