import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Difficulty } from "@sonocode/contracts";
import { call, sampleProblem, startTestServer, type TestServer } from "./test-server.helper.js";

interface ListData {
  problems: { _id: string; title: string; difficulty: Difficulty }[];
  pagination: { page: number; limit: number; total: number; totalPages: number };
}

describe("problem-service list: pagination and difficulty filter", () => {
  let server: TestServer;
  const difficulties: Difficulty[] = ["easy", "medium", "hard", "easy", "easy", "medium", "hard"];
  before(async () => {
    server = await startTestServer();
    for (const [index, difficulty] of difficulties.entries()) {
      const res = await call(server, "POST", "/api/v1/problems", {
        token: server.adminToken,
        json: sampleProblem({ title: `P${index}`, difficulty }),
      });
      assert.equal(res.status, 201, res.text);
    }
  });
  after(async () => {
    await server.close();
  });

  async function list(query: string): Promise<ListData> {
    const res = await call(server, "GET", `/api/v1/problems${query}`);
    assert.equal(res.status, 200, `${query}: ${res.text}`);
    return res.body.data as ListData;
  }

  it("defaults to page 1, limit 20", async () => {
    const data = await list("");
    assert.deepEqual(data.pagination, { page: 1, limit: 20, total: 7, totalPages: 1 });
    assert.equal(data.problems.length, 7);
  });

  it("pages are disjoint and cover every problem once", async () => {
    const seen = new Set<string>();
    for (let page = 1; page <= 3; page += 1) {
      const data = await list(`?page=${page}&limit=3`);
      assert.deepEqual(data.pagination, { page, limit: 3, total: 7, totalPages: 3 });
      assert.equal(data.problems.length, page === 3 ? 1 : 3);
      for (const p of data.problems) {
        assert.equal(seen.has(p._id), false, "a problem appeared on two pages");
        seen.add(p._id);
      }
    }
    assert.equal(seen.size, 7);
    const beyond = await list("?page=9&limit=3");
    assert.deepEqual(beyond.problems, []);
    assert.equal(beyond.pagination.total, 7);
  });

  it("filters by difficulty, with pagination counting only the matches", async () => {
    for (const difficulty of ["easy", "medium", "hard"] as const) {
      const expected = difficulties.filter((d) => d === difficulty).length;
      const data = await list(`?difficulty=${difficulty}&limit=2`);
      assert.equal(data.pagination.total, expected, difficulty);
      assert.equal(data.pagination.totalPages, Math.ceil(expected / 2));
      assert.ok(data.problems.every((p) => p.difficulty === difficulty));
    }
  });

  it("rejects bad query values with 400 VALIDATION_FAILED and details", async () => {
    for (const query of [
      "?page=0",
      "?page=-1",
      "?page=1.5",
      "?page=abc",
      "?limit=0",
      "?limit=101",
      "?page=100001",
      "?difficulty=extreme",
      "?difficulty=",
      "?difficulty=EASY",
      "?page=-1&page=2",
      "?difficulty=easy&difficulty=hard",
    ]) {
      const res = await call(server, "GET", `/api/v1/problems${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.equal(res.body.error.code, "VALIDATION_FAILED");
      const details = (res.body.error as { details?: { path: string; message: string }[] }).details;
      assert.ok(Array.isArray(details) && details.length > 0 && typeof details[0]?.path === "string", query);
    }
  });

  it("ignores unknown query keys, including bracketed and prototype ones", async () => {
    const data = await list("?limit[]=x&__proto__[page]=5&constructor=1&sort=title");
    assert.deepEqual(data.pagination, { page: 1, limit: 20, total: 7, totalPages: 1 });
  });
});

describe("problem-service body validation", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ deps: { jsonBodyLimit: "64kb" } });
  });
  after(async () => {
    await server.close();
  });

  const post = (json: unknown, headers?: Record<string, string>) =>
    call(server, "POST", "/api/v1/problems", { token: server.adminToken, json, headers });

  it("invalid problems are 400 VALIDATION_FAILED with the failing paths, never the rejected values", async () => {
    const cases: [string, unknown, string][] = [
      ["empty object", {}, "title"],
      ["no test cases", sampleProblem({ testCases: [] }), "testCases"],
      ["bad difficulty", { ...sampleProblem(), difficulty: "trivial" }, "difficulty"],
      ["blank title", sampleProblem({ title: "   " }), "title"],
      ["unsupported language", { ...sampleProblem(), codeStubs: [{ language: "COBOL" }] }, "codeStubs.0.language"],
      ["duplicate stubs", sampleProblem({ codeStubs: [{ language: "C", startSnippet: "", userSnippet: "", endSnippet: "" }, { language: "C", startSnippet: "", userSnippet: "", endSnippet: "" }] }), "codeStubs"],
      ["time limit too big", sampleProblem({ timeLimitMs: 10_000_000 }), "timeLimitMs"],
      ["wrong types", { ...sampleProblem(), testCases: [{ input: 1, output: null }] }, "testCases.0.input"],
      ["array body", [sampleProblem()], ""],
    ];
    for (const [label, json, path] of cases) {
      const res = await post(json);
      assert.equal(res.status, 400, `${label}: ${res.text}`);
      assert.equal(res.body.error.code, "VALIDATION_FAILED", label);
      const details = (res.body.error as { details: { path: string }[] }).details;
      assert.ok(details.some((d) => d.path === path), `${label}: ${JSON.stringify(details)}`);
    }
    const secret = await post({ ...sampleProblem(), difficulty: "SECRET-VALUE-123" });
    assert.doesNotMatch(secret.text, /SECRET-VALUE-123/);
  });

  it("an empty PATCH is 400; a PATCH with a bad field is 400", async () => {
    const created = await post(sampleProblem());
    const id = (created.body.data as { _id: string })._id;
    for (const json of [{}, { difficulty: "nope" }, { testCases: [] }, { unknownOnly: true }]) {
      const res = await call(server, "PATCH", `/api/v1/problems/${id}`, { token: server.adminToken, json });
      assert.equal(res.status, 400, `${JSON.stringify(json)}: ${res.text}`);
      assert.equal(res.body.error.code, "VALIDATION_FAILED");
    }
  });

  it("malformed JSON is 400 MALFORMED_JSON; JSON primitives are rejected too", async () => {
    for (const body of ["{", '{"title": }', "nul", "null", '"a string"', "42", "\u0000", "{'a':1}"]) {
      const res = await call(server, "POST", "/api/v1/problems", {
        token: server.adminToken,
        body,
        headers: { "content-type": "application/json" },
      });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, "MALFORMED_JSON", JSON.stringify(body));
    }
  });

  it("a body above the limit is 413 PAYLOAD_TOO_LARGE", async () => {
    const res = await post(sampleProblem({ description: "x".repeat(100 * 1024) }));
    assert.equal(res.status, 413);
    assert.deepEqual(res.body.error, { code: "PAYLOAD_TOO_LARGE" });
  });

  it("a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE; a missing body is 415 too", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"]) {
      const res = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, body: JSON.stringify(sampleProblem()), headers: { "content-type": type } });
      assert.equal(res.status, 415, `${type}: ${res.text}`);
      assert.deepEqual(res.body.error, { code: "UNSUPPORTED_MEDIA_TYPE" });
    }
    const empty = await call(server, "POST", "/api/v1/problems", { token: server.adminToken });
    assert.equal(empty.status, 415);
    const charset = await call(server, "POST", "/api/v1/problems", {
      token: server.adminToken,
      body: "{}",
      headers: { "content-type": "application/json; charset=klingon" },
    });
    assert.equal(charset.status, 415);
  });

  it("text no store can keep (NUL, lone surrogates) is 400 with its path, never a 500", async () => {
    const cases: [unknown, string][] = [
      [sampleProblem({ title: "a\u0000b" }), "title"],
      [sampleProblem({ testCases: [{ input: "\ud800", output: "1", hidden: false }] }), "testCases.0.input"],
      [sampleProblem({ editorial: "\udfff tail" }), "editorial"],
      [sampleProblem({ codeStubs: [{ language: "C", startSnippet: "", userSnippet: "\u0000", endSnippet: "" }] }), "codeStubs.0.userSnippet"],
    ];
    for (const [json, path] of cases) {
      const res = await post(json);
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.equal(res.body.error.code, "VALIDATION_FAILED");
      assert.deepEqual((res.body.error as { details: { path: string }[] }).details.map((d) => d.path), [path]);
    }
    // A well-formed astral character (a surrogate pair) is fine.
    const emoji = await post(sampleProblem({ title: "Sum \u{1F600}" }));
    assert.equal(emoji.status, 201, emoji.text);
    assert.equal((emoji.body.data as { title: string }).title, "Sum \u{1F600}");
  });

  it("prototype-pollution keys are stripped, not merged", async () => {
    const body = `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},${JSON.stringify(sampleProblem()).slice(1)}`;
    const res = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, body, headers: { "content-type": "application/json" } });
    assert.equal(res.status, 201, res.text);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal("constructor" in (JSON.parse(res.text) as { data: object }).data && Object.hasOwn((JSON.parse(res.text) as { data: object }).data, "constructor"), false);
  });
});
