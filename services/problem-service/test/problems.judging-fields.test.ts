// The problem model's judging fields (checker, referenceSolution, languageLimits, groups): validated
// field by field and across fields, stored, and the admin-only parts never shown to anyone else.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signServiceToken } from "@sonocode/auth";
import { judgingProblemSchema, problemSchema, publicProblemSchema, type ProblemInput } from "@sonocode/contracts";
import { call, sampleProblem, startTestServer, TEST_JWT_SECRET, type TestServer } from "./test-server.helper.js";

const SECRET_CHECKER = "/* CHECKER-SECRET */ int main(void) { return 0; }";
const SECRET_SOLUTION = "print('REFERENCE-SECRET')";

function judgedProblem(overrides: Partial<ProblemInput> = {}): ProblemInput {
  return sampleProblem({
    testCases: [
      { input: "1", output: "1", hidden: false, group: "easy" },
      { input: "HIDDEN-INPUT", output: "HIDDEN-OUTPUT", hidden: true, group: "hard" },
    ],
    groups: [{ name: "easy", points: 30 }, { name: "hard", points: 70, dependencies: ["easy"] }],
    checker: { type: "custom", protocol: "testlib", language: "c" as "C", source: SECRET_CHECKER, files: [{ name: "testlib.h", content: "/* TESTLIB-SECRET */" }] },
    referenceSolution: { language: "python" as "PYTHON", code: SECRET_SOLUTION },
    languageLimits: { PYTHON: { timeLimitMs: 6_000 }, JAVA: { memoryLimitMb: 512 } },
    ...overrides,
  });
}

describe("judging fields of a problem", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("admins get every field; users, anonymous callers and jobs never get the reference solution or the checker's code", async () => {
    const created = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: judgedProblem() });
    assert.equal(created.status, 201, created.text);
    const problem = problemSchema.parse(created.body.data);
    assert.deepEqual(problem.referenceSolution, { language: "PYTHON", code: SECRET_SOLUTION });
    assert.equal(problem.checker?.language, "C");
    assert.deepEqual(problem.languageLimits, { PYTHON: { timeLimitMs: 6_000 }, JAVA: { memoryLimitMb: 512 } });
    assert.deepEqual(problem.groups?.map((g) => g.name), ["easy", "hard"]);

    const admin = await call(server, "GET", `/api/v1/problems/${problem._id}`, { token: server.adminToken });
    assert.ok(admin.text.includes("REFERENCE-SECRET") && admin.text.includes("CHECKER-SECRET"));
    for (const token of [server.userToken, undefined]) {
      const one = await call(server, "GET", `/api/v1/problems/${problem._id}`, token ? { token } : {});
      const list = await call(server, "GET", "/api/v1/problems?limit=100", token ? { token } : {});
      for (const response of [one, list]) {
        for (const secret of ["REFERENCE-SECRET", "CHECKER-SECRET", "TESTLIB-SECRET", "HIDDEN-INPUT", "referenceSolution"]) {
          assert.ok(!response.text.includes(secret), `${secret} leaked to ${token ? "a user" : "an anonymous caller"}`);
        }
      }
      const view = publicProblemSchema.strict().parse(one.body.data);
      assert.deepEqual(view.checker, { type: "custom", protocol: "testlib" });
      assert.deepEqual(view.groups, problem.groups, "subtasks and their points are public");
      assert.deepEqual(view.languageLimits, problem.languageLimits);
      assert.deepEqual(view.testCases, [{ input: "1", output: "1", hidden: false, group: "easy" }]);
    }
    const service = await signServiceToken("submission-service", TEST_JWT_SECRET);
    const judging = await call(server, "GET", `/internal/v1/problems/${problem._id}`, { token: service });
    const view = judgingProblemSchema.parse(judging.body.data);
    assert.deepEqual(view.checker, { type: "custom", protocol: "testlib", language: "C" });
    assert.deepEqual(view.languageLimits, problem.languageLimits);
    assert.ok(!judging.text.includes("SECRET"), "a job is built without the checker's code or the reference solution");
  });

  it("refuses fields that do not fit their checker type, and groups that do not add up (also across PATCHes)", async () => {
    const refused = async (body: unknown, pattern: RegExp, method = "POST", path = "/api/v1/problems") => {
      const response = await call(server, method, path, { token: server.adminToken, json: body });
      assert.equal(response.status, 400, response.text);
      assert.match(JSON.stringify(response.body.error.details), pattern);
    };
    await refused(judgedProblem({ checker: { type: "custom", language: "C" } }), /a custom checker needs its source/);
    await refused(judgedProblem({ checker: { type: "custom", language: "JAVA", source: "x" } }), /a custom checker can be written in/);
    await refused(judgedProblem({ checker: { type: "tokens", source: "x" } }), /only a custom checker has source/);
    await refused(judgedProblem({ checker: { type: "exact", caseSensitive: false } }), /always case-sensitive/);
    await refused(judgedProblem({ checker: { type: "custom", language: "C", source: "x", files: [{ name: "../x.h", content: "" }] } }), /plain file name/);
    await refused(judgedProblem({ checker: { type: "custom", language: "C", source: "x", files: [{ name: "main.c", content: "" }] } }), /checker's own/);
    await refused(judgedProblem({ languageLimits: { PYTHON: { timeLimitMs: 50 } } }), /languageLimits\.PYTHON\.timeLimitMs/);
    await refused(judgedProblem({ languageLimits: { COBOL: {} } as never }), /languageLimits/);
    await refused(judgedProblem({ referenceSolution: { language: "PYTHON", code: "" } }), /code must not be empty/);
    await refused(judgedProblem({ groups: [{ name: "easy", points: 30 }] }), /group hard is not declared in groups/);
    await refused(judgedProblem({ groups: [{ name: "hard", points: 70, dependencies: ["easy"] }, { name: "easy", points: 30 }] }), /easy must be a group declared before hard/);
    await refused(judgedProblem({ groups: [{ name: "easy", points: 30 }, { name: "hard", points: 70 }, { name: "extra", points: 0 }] }), /group extra has no tests/);

    const created = problemSchema.parse((await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: judgedProblem() })).body.data);
    await refused({ groups: [{ name: "easy", points: 100 }] }, /group hard is not declared/, "PATCH", `/api/v1/problems/${created._id}`);
    const patched = await call(server, "PATCH", `/api/v1/problems/${created._id}`, { token: server.adminToken, json: { checker: { type: "float", epsilon: 0.001 } } });
    assert.equal(patched.status, 200, patched.text);
    const after = problemSchema.parse(patched.body.data);
    assert.deepEqual(after.checker, { type: "float", epsilon: 0.001 });
    assert.notEqual(after.testSet.hash, created.testSet.hash, "a changed checker is a new test-set version");
  });

  it("a problem without the new fields reads as before (exact checker by default, the tests' own hash)", async () => {
    const plain = problemSchema.parse((await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: sampleProblem() })).body.data);
    assert.equal(plain.checker, undefined);
    assert.equal(plain.referenceSolution, undefined);
    assert.equal(plain.groups, undefined);
  });
});
