import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LANGUAGES, MAX_RUN_INPUT_BYTES, QUEUES, SUBMISSION_JOB, submissionJobSchema } from "@sonocode/contracts";
import { Job } from "bullmq";
import { connect } from "node:net";
import { bearer, isEnvelope, startHarness, type Harness } from "./harness.js";

const MAX_CODE_BYTES = 4 * 1024;
let h: Harness;

before(async () => {
  h = await startHarness("routes", { maxCodeBytes: MAX_CODE_BYTES });
});
after(async () => {
  await h.close();
});

async function submit(sub: string, body: unknown, url = "/api/v1/submissions", role: "user" | "admin" = "user") {
  return h.app.inject({ method: "POST", url, headers: await bearer(sub, role), payload: body as Record<string, unknown> });
}

describe("POST /api/v1/submissions", () => {
  test("persists Pending, enqueues jobId = submissionId with the full payload, answers 201", async () => {
    const response = await submit("alice", { problemId: h.problem._id, language: "python", code: "def solve(a, b):\n    return a + b", userId: "mallory" });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.ok(isEnvelope(body));
    assert.equal(body.success, true);
    assert.deepEqual(body.error, {});
    const created = body.data.submission;
    assert.deepEqual(Object.keys(created).sort(), ["_id", "createdAt", "language", "problemId", "status", "userId"]);
    assert.equal(created.status, "Pending");
    assert.equal(created.language, "PYTHON");
    // The owner comes from the token, never from the body.
    assert.equal(created.userId, "alice");

    const stored = await h.store.submissions.findById(created._id);
    assert.equal(stored?.status, "Pending");
    assert.equal(stored?.total, 2);
    assert.equal(stored?.code, "def solve(a, b):\n    return a + b");

    const job = await Job.fromId(h.queue.queue, created._id);
    assert.ok(job, "job is in Redis under jobId = submissionId");
    assert.equal(job.name, SUBMISSION_JOB);
    assert.equal(job.queueName, QUEUES.submission);
    const { testSet, ...payload } = submissionJobSchema.parse(job.data);
    // A reference to the test set (content hash), never the tests: a job is a few KiB whatever the problem.
    assert.ok(!("testCases" in payload));
    assert.deepEqual(testSet && { problemId: testSet.problemId, count: testSet.count }, { problemId: h.problem._id, count: 2 });
    assert.match(testSet?.hash ?? "", /^[0-9a-f]{64}$/);
    assert.deepEqual(payload, {
      submissionId: created._id,
      userId: "alice",
      problemId: h.problem._id,
      language: "PYTHON",
      // The stub wraps the user's code, one part per line.
      source: "import sys\ndef solve(a, b):\n    return a + b\nprint(solve(*map(int, sys.stdin.read().split())))",
      timeLimitMs: 2_000,
      memoryLimitMb: 256,
      checker: { type: "exact" },
      runAllTests: false,
      // The first judging of the submission (a rejudge is generation 1, 2, ...).
      generation: 0,
    });
  });

  test("the original path /api/v1/submission works the same way", async () => {
    const response = await submit("alice", { problemId: h.problem._id, language: "PYTHON", code: "pass" }, "/api/v1/submission");
    assert.equal(response.statusCode, 201, response.body);
    const id = response.json().data.submission._id;
    assert.ok(await Job.fromId(h.queue.queue, id));
  });

  test("without a stub for the language the code is the whole program; problem limits and checker are carried", async () => {
    const problem = await h.store.problems.create({
      title: "Echo",
      description: "echo",
      difficulty: "easy",
      testCases: [{ input: "x", output: "x", hidden: false }],
      codeStubs: [],
      timeLimitMs: 500,
      memoryLimitMb: 64,
      checker: { type: "tokens" },
      runAllTests: true,
    });
    const code = "#include <cstdio>\nint main(){}";
    const response = await submit("bob", { problemId: problem._id, language: "Cpp", code });
    assert.equal(response.statusCode, 201, response.body);
    const job = await Job.fromId(h.queue.queue, response.json().data.submission._id);
    const payload = submissionJobSchema.parse(job?.data);
    assert.equal(payload.source, code);
    assert.equal(payload.language, "CPP");
    assert.equal(payload.timeLimitMs, 500);
    assert.equal(payload.memoryLimitMb, 64);
    assert.deepEqual(payload.checker, { type: "tokens" });
    assert.equal(payload.runAllTests, true);
  });

  test("admins may submit too", async () => {
    const response = await submit("root", { problemId: h.problem._id, language: "GO", code: "package main" }, "/api/v1/submissions", "admin");
    assert.equal(response.statusCode, 201);
    assert.equal(response.json().data.submission.userId, "root");
  });

  test("400 UNSUPPORTED_LANGUAGE lists the supported languages", async () => {
    const response = await submit("alice", { problemId: h.problem._id, language: "brainfuck", code: "+" });
    assert.equal(response.statusCode, 400);
    const body = response.json();
    assert.equal(body.error.code, "UNSUPPORTED_LANGUAGE");
    assert.deepEqual(body.error.details, { supported: [...LANGUAGES] });
  });

  test("400 VALIDATION_FAILED for a bad problem id, empty code, missing fields", async () => {
    for (const payload of [
      { problemId: "nope", language: "PYTHON", code: "x" },
      { problemId: h.problem._id, language: "PYTHON", code: "" },
      { problemId: h.problem._id, language: "PYTHON" },
      { problemId: h.problem._id, language: 7, code: "x" },
    ]) {
      const response = await submit("alice", payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      const body = response.json();
      assert.equal(body.error.code, "VALIDATION_FAILED");
      assert.ok(Array.isArray(body.error.details) && body.error.details.length > 0);
      assert.deepEqual(body.data, {});
    }
  });

  test("400 MALFORMED_JSON, 415 for a non-JSON body", async () => {
    const headers = await bearer("alice");
    const malformed = await h.app.inject({ method: "POST", url: "/api/v1/submissions", headers: { ...headers, "content-type": "application/json" }, payload: "{\"problemId\":" });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().error.code, "MALFORMED_JSON");
    const text = await h.app.inject({ method: "POST", url: "/api/v1/submissions", headers: { ...headers, "content-type": "text/plain" }, payload: "print(1)" });
    assert.equal(text.statusCode, 415);
    assert.equal(text.json().error.code, "UNSUPPORTED_MEDIA_TYPE");
    const form = await h.app.inject({ method: "POST", url: "/api/v1/submissions", headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, payload: "a=b" });
    assert.equal(form.statusCode, 415);
  });

  test("413 for code over maxCodeBytes (counted in UTF-8 bytes) and for a body over the limit", async () => {
    const exactly = await submit("alice", { problemId: h.problem._id, language: "PYTHON", code: "x".repeat(MAX_CODE_BYTES) });
    assert.equal(exactly.statusCode, 201);
    const over = await submit("alice", { problemId: h.problem._id, language: "PYTHON", code: "x".repeat(MAX_CODE_BYTES + 1) });
    assert.equal(over.statusCode, 413);
    assert.equal(over.json().error.code, "PAYLOAD_TOO_LARGE");
    // 2-byte characters: under the limit in characters, over it in bytes.
    const wide = await submit("alice", { problemId: h.problem._id, language: "PYTHON", code: "é".repeat(MAX_CODE_BYTES / 2 + 1) });
    assert.equal(wide.statusCode, 413);
    const huge = await submit("alice", { problemId: h.problem._id, language: "PYTHON", code: "x".repeat(MAX_CODE_BYTES * 10) });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().error.code, "PAYLOAD_TOO_LARGE");
  });

  test("the code's byte cap decides, not the client's JSON encoder (every byte written as \\u00XX)", async () => {
    // What an ASCII-only encoder sends (Go's escapes <, > and &; Python's default escapes é):
    // six body bytes per code byte, so a body limit of twice the cap refused code under it.
    const asciiOnly = (value: unknown) => JSON.stringify(value).replace(/[<>&\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    const headers = { ...(await bearer("ascii-client")), "content-type": "application/json" };
    const post = (url: string, body: Record<string, unknown>) => h.app.inject({ method: "POST", url, headers, payload: asciiOnly(body) });
    const code = "<".repeat(MAX_CODE_BYTES);
    const exactly = await post("/api/v1/submissions", { problemId: h.problem._id, language: "CPP", code });
    assert.equal(exactly.statusCode, 201, exactly.body);
    assert.equal((await h.store.submissions.findById(exactly.json().data.submission._id))?.code, code);
    const over = await post("/api/v1/submissions", { problemId: h.problem._id, language: "CPP", code: code + "<" });
    assert.equal(over.statusCode, 413);
    assert.deepEqual(over.json().error.details, { maxCodeBytes: MAX_CODE_BYTES, codeBytes: MAX_CODE_BYTES + 1 });
    const run = await post("/api/v1/runs", { problemId: h.problem._id, language: "CPP", code, input: "é".repeat(MAX_RUN_INPUT_BYTES / 2) });
    assert.equal(run.statusCode, 202, run.body);
  });

  test("401 without a valid token, before the body is looked at", async () => {
    for (const authorization of [undefined, "", "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", `Bearer ${"a".repeat(5000)}`]) {
      const response = await h.app.inject({
        method: "POST",
        url: "/api/v1/submissions",
        headers: authorization === undefined ? {} : { authorization },
        payload: { problemId: h.problem._id, language: "PYTHON", code: "x" },
      });
      assert.equal(response.statusCode, 401, String(authorization));
      assert.equal(response.json().error.code, "UNAUTHORIZED");
    }
  });

  test("404 PROBLEM_NOT_FOUND for an unknown problem, and nothing is persisted", async () => {
    const before = await h.store.submissions.listByUser("carol", { page: 1, limit: 100 });
    const response = await submit("carol", { problemId: "0123456789abcdef01234567", language: "PYTHON", code: "x" });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error.code, "PROBLEM_NOT_FOUND");
    const afterList = await h.store.submissions.listByUser("carol", { page: 1, limit: 100 });
    assert.equal(afterList.total, before.total);
  });
});

describe("GET /api/v1/submissions/:id", () => {
  test("owner and admin see the whole submission; another user gets the 404 of a missing one", async () => {
    const created = (await submit("dave", { problemId: h.problem._id, language: "PYTHON", code: "secret()" })).json().data.submission;
    const own = await h.app.inject({ method: "GET", url: `/api/v1/submissions/${created._id}`, headers: await bearer("dave") });
    assert.equal(own.statusCode, 200);
    const data = own.json().data;
    assert.equal(data._id, created._id);
    assert.equal(data.code, "secret()");
    assert.equal(data.status, "Pending");
    assert.deepEqual(data.results, []);

    const admin = await h.app.inject({ method: "GET", url: `/api/v1/submissions/${created._id}`, headers: await bearer("boss", "admin") });
    assert.equal(admin.statusCode, 200);
    assert.equal(admin.json().data.code, "secret()");

    // Another user cannot tell it from a submission that does not exist (same answer as runs).
    const other = await h.app.inject({ method: "GET", url: `/api/v1/submissions/${created._id}`, headers: await bearer("eve") });
    const missingId = created._id.slice(0, 18) + (created._id.slice(18) === "ffffff" ? "000000" : "ffffff");
    const missing = await h.app.inject({ method: "GET", url: `/api/v1/submissions/${missingId}`, headers: await bearer("eve") });
    assert.equal(other.statusCode, 404);
    assert.equal(other.json().error.code, "SUBMISSION_NOT_FOUND");
    assert.deepEqual(other.json().data, {});
    assert.equal(missing.statusCode, 404);
    assert.equal(other.json().message, `submission ${created._id} not found`);
    assert.equal(missing.json().message, `submission ${missingId} not found`);
  });

  test("400 INVALID_ID, 404 SUBMISSION_NOT_FOUND, 401 without a token", async () => {
    const headers = await bearer("dave");
    const bad = await h.app.inject({ method: "GET", url: "/api/v1/submissions/not-an-id", headers });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, "INVALID_ID");
    const unknown = await h.app.inject({ method: "GET", url: "/api/v1/submissions/0123456789abcdef01234567", headers });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, "SUBMISSION_NOT_FOUND");
    const anonymous = await h.app.inject({ method: "GET", url: "/api/v1/submissions/0123456789abcdef01234567" });
    assert.equal(anonymous.statusCode, 401);
  });
});

describe("GET /api/v1/submissions", () => {
  test("lists only the caller's own, newest first, filtered by problem, paginated, without code", async () => {
    const other = await h.store.problems.create({
      title: "Other",
      description: "other",
      difficulty: "hard",
      testCases: [{ input: "", output: "", hidden: false }],
      codeStubs: [],
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push((await submit("frank", { problemId: h.problem._id, language: "PYTHON", code: `v${i}` })).json().data.submission._id);
    }
    await submit("frank", { problemId: other._id, language: "C", code: "int main(){}" });
    await submit("grace", { problemId: h.problem._id, language: "PYTHON", code: "not frank's" });
    const headers = await bearer("frank");

    const all = await h.app.inject({ method: "GET", url: "/api/v1/submissions", headers });
    assert.equal(all.statusCode, 200);
    const allData = all.json().data;
    assert.equal(allData.pagination.total, 4);
    assert.ok(allData.submissions.every((s: { userId: string; code?: string }) => s.userId === "frank" && s.code === undefined));

    const filtered = await h.app.inject({ method: "GET", url: `/api/v1/submissions?problemId=${h.problem._id}&page=1&limit=2`, headers });
    assert.equal(filtered.statusCode, 200);
    const page1 = filtered.json().data;
    assert.deepEqual(page1.pagination, { page: 1, limit: 2, total: 3, totalPages: 2 });
    assert.equal(page1.submissions.length, 2);
    const page2 = (await h.app.inject({ method: "GET", url: `/api/v1/submissions?problemId=${h.problem._id}&page=2&limit=2`, headers })).json().data;
    assert.equal(page2.submissions.length, 1);
    const seen = [...page1.submissions, ...page2.submissions].map((s: { _id: string }) => s._id);
    assert.deepEqual([...seen].sort(), [...ids].sort());

    const bad = await h.app.inject({ method: "GET", url: "/api/v1/submissions?limit=1000", headers });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, "VALIDATION_FAILED");
  });
});

describe("service routes", () => {
  test("/ping, /health, unknown route, OpenAPI and docs", async () => {
    const ping = await h.app.inject({ method: "GET", url: "/ping" });
    assert.equal(ping.statusCode, 200);
    assert.equal(ping.json().success, true);

    const health = await h.app.inject({ method: "GET", url: "/health" });
    assert.equal(health.statusCode, 200, health.body);
    assert.deepEqual(health.json().data, { status: "ok", checks: { database: "ok", redis: "ok" } });

    const wrongMethod = await h.app.inject({ method: "DELETE", url: "/api/v1/submissions/0123456789abcdef01234567" });
    assert.equal(wrongMethod.statusCode, 405);
    assert.equal(wrongMethod.headers.allow, "GET, HEAD");
    assert.equal(wrongMethod.json().error.code, "METHOD_NOT_ALLOWED");

    const missing = await h.app.inject({ method: "GET", url: "/nope" });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, "ROUTE_NOT_FOUND");

    const spec = await h.app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(spec.statusCode, 200);
    const document = spec.json();
    assert.match(document.openapi, /^3\./);
    assert.ok(document.paths["/api/v1/submissions"].post);
    assert.ok(document.paths["/api/v1/submission"].post);
    assert.ok(document.paths["/api/v1/submissions/{id}"].get);
    assert.ok(!document.paths["/openapi.json"]);

    const docs = await h.app.inject({ method: "GET", url: "/docs" });
    assert.ok(docs.statusCode < 400, String(docs.statusCode));
  });
});

describe("over a real port", () => {
  test("a request Node's HTTP parser rejects still gets the envelope", async () => {
    const address = await h.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = new URL(address);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => socket.write("GARBAGE / HTTP/9.9\r\n\u0000\r\n\r\n"));
      let data = "";
      socket.on("data", (chunk) => (data += chunk.toString()));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
    const body = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
    assert.ok(isEnvelope(body));
    assert.equal(body.error.code, "BAD_REQUEST");

    const real = await fetch(`${address}/api/v1/submissions/0123456789abcdef01234567`, { headers: await bearer("nobody") });
    assert.equal(real.status, 404);
    const realBody = (await real.json()) as { error: { code: string } };
    assert.equal(realBody.error.code, "SUBMISSION_NOT_FOUND");
  });
});
