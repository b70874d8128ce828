// An interactive problem's interactor: validated, stored, admin-only code (others see the
// protocol alone), served with the test set, and part of the test set's hash (a PATCH of the
// interactor alone is a new version).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signServiceToken } from "@sonocode/auth";
import { problemSchema, publicProblemSchema, testSetSchema, type ProblemInput } from "@sonocode/contracts";
import { testSetContentHash, testSetHash } from "@sonocode/contracts/test-set-hash";
import { call, sampleProblem, startTestServer, TEST_JWT_SECRET, type TestServer } from "./test-server.helper.js";
import { buildZip } from "./zip.builder.js";

const SECRET = "/* INTERACTOR-SECRET */ int main(void) { return 0; }";

function interactive(overrides: Partial<ProblemInput> = {}): ProblemInput {
  return sampleProblem({ interactor: { protocol: "kattis", language: "c" as "C", source: SECRET, files: [{ name: "game.h", content: "/* HEADER-SECRET */" }] }, ...overrides });
}

describe("interactive problems", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("stores the interactor; users see only that the problem is interactive; the test set carries it under a hash that covers it", async () => {
    const created = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: interactive() });
    assert.equal(created.status, 201, created.text);
    const problem = problemSchema.parse(created.body.data);
    assert.deepEqual(problem.interactor, { protocol: "kattis", language: "C", source: SECRET, files: [{ name: "game.h", content: "/* HEADER-SECRET */" }] });
    assert.notEqual(problem.testSet.hash, testSetHash(problem.testCases), "the interactor changes the version");

    for (const token of [server.userToken, undefined]) {
      const one = await call(server, "GET", `/api/v1/problems/${problem._id}`, token ? { token } : {});
      assert.ok(!one.text.includes("SECRET"), "no interactor code for non-admins");
      assert.deepEqual(publicProblemSchema.strict().parse(one.body.data).interactor, { protocol: "kattis" });
    }

    const service = await signServiceToken("submission-service", TEST_JWT_SECRET);
    const judging = await call(server, "GET", `/internal/v1/problems/${problem._id}`, { token: service });
    assert.ok(!judging.text.includes("SECRET"), "a job never carries the interactor's code");
    const served = await call(server, "GET", `/internal/v1/problems/${problem._id}/test-set/${problem.testSet.hash}`, { token: service });
    const set = testSetSchema.parse(served.body.data);
    assert.deepEqual(set.interactor, problem.interactor);
    assert.equal(testSetContentHash(set), problem.testSet.hash, "an evaluator verifies the interactor with the tests");

    const patched = await call(server, "PATCH", `/api/v1/problems/${problem._id}`, { token: server.adminToken, json: { interactor: { language: "PYTHON", source: "print(1)" } } });
    assert.equal(patched.status, 200, patched.text);
    const after = problemSchema.parse(patched.body.data);
    assert.notEqual(after.testSet.hash, problem.testSet.hash, "a changed interactor is a new test-set version");
    assert.equal(testSetContentHash({ tests: after.testCases, interactor: { language: "PYTHON", source: "print(1)" } }), after.testSet.hash);
  });

  it("refuses interactors it could not build", async () => {
    const refused = async (body: unknown, pattern: RegExp) => {
      const response = await call(server, "POST", "/api/v1/problems", { token: server.adminToken, json: body });
      assert.equal(response.status, 400, response.text);
      assert.match(JSON.stringify(response.body.error.details), pattern);
    };
    await refused(interactive({ interactor: { language: "JAVA", source: "class Main {}" } }), /an interactor can be written in/);
    await refused(interactive({ interactor: { language: "C", source: "" } }), /interactor/);
    await refused(interactive({ interactor: { language: "C", source: "x", files: [{ name: "main.c", content: "" }] } }), /interactor's own/);
    await refused(interactive({ interactor: { language: "C", source: "x", files: [{ name: "../x.h", content: "" }] } }), /plain file name/);
  });

  it("imports a Kattis package with validation: custom interactive, its output validator as the interactor", async () => {
    const validator = "import sys\nsecret = int(open(sys.argv[1]).read())\nsys.exit(42 if int(input()) == secret else 43)\n";
    const zip = buildZip([
      { name: "guess/problem.yaml", data: "name: Guess\nvalidation: custom interactive\n" },
      { name: "guess/problem_statement/problem.en.md", data: "# Guess\n\nGuess the number.\n" },
      { name: "guess/data/sample/1.in", data: "7\n" },
      { name: "guess/data/sample/1.ans", data: "\n" },
      { name: "guess/data/secret/1.in", data: "42\n" },
      { name: "guess/data/secret/1.ans", data: "\n" },
      { name: "guess/output_validators/guess/validate.py", data: validator },
    ]);
    const response = await call(server, "POST", "/api/v1/problems/import", { token: server.adminToken, body: zip, headers: { "content-type": "application/zip" } });
    assert.equal(response.status, 201, response.text);
    const problem = problemSchema.parse(response.body.data);
    assert.deepEqual(problem.interactor, { protocol: "kattis", language: "PYTHON", source: validator });
    assert.equal(problem.checker, undefined, "an interactive package has no output checker");
  });
});
