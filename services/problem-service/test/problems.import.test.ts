// POST /api/v1/problems/import: Kattis packages built here (honest ones, and the malformed,
// traversing, bombing and incomplete ones an upload can be), through the real app over PGlite.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signServiceToken } from "@sonocode/auth";
import { problemSchema, publicProblemSchema, testSetSchema, type Problem } from "@sonocode/contracts";
import { testSetContentHash } from "@sonocode/contracts/test-set-hash";
import { call, startTestServer, TEST_JWT_SECRET, type TestServer } from "./test-server.helper.js";
import { buildZip, type ZipEntry } from "./zip.builder.js";

const VALIDATOR = "import sys\nanswer = open(sys.argv[2]).read().split()\nsys.exit(42 if sys.stdin.read().split() == answer else 43)\n";

/** A complete package; `extra` adds or (with data: null) removes entries. */
function kattisPackage(options: { yaml?: string; extra?: Record<string, string | null>; prefix?: string } = {}): ZipEntry[] {
  const files: Record<string, string | null> = {
    "problem.yaml": options.yaml ?? "name: Circle Area\nlimits:\n  memory: 512\n  time_multiplier: 5\nvalidator_flags: float_tolerance 1e-4\n",
    ".timelimit": "1.5\n",
    "problem_statement/problem.en.md": "# Circle Area\n\nPrint the area of a circle of radius r.\n",
    "data/sample/1.in": "1\n",
    "data/sample/1.ans": "3.14159\n",
    "data/secret/small/1.in": "2\n",
    "data/secret/small/1.ans": "12.56637\n",
    "data/secret/small/2.in": "3\n",
    "data/secret/small/2.ans": "28.27433\n",
    "data/secret/large/10.in": "100\n",
    "data/secret/large/10.ans": "31415.92654\n",
    "data/secret/large/9.in": "10\n",
    "data/secret/large/9.ans": "314.15927\n",
    ...options.extra,
  };
  return Object.entries(files)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, data]) => ({ name: `${options.prefix ?? ""}${name}`, data }));
}

describe("Kattis package import", () => {
  let server: TestServer;
  const upload = (body: Buffer, options: { token?: string | undefined; type?: string; query?: string } = {}) =>
    call(server, "POST", `/api/v1/problems/import${options.query ?? ""}`, {
      ...(options.token === undefined ? {} : { token: options.token }),
      body,
      headers: { "content-type": options.type ?? "application/zip" },
    });
  const refused = async (entries: ZipEntry[] | Buffer, pattern: RegExp) => {
    const response = await upload(Buffer.isBuffer(entries) ? entries : buildZip(entries), { token: server.adminToken });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.error.code, "VALIDATION_FAILED");
    assert.match(response.body.message, pattern);
  };

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("imports samples, secret groups in natural order, limits and a float tolerance (Kattis' case-insensitive default)", async () => {
    const response = await upload(buildZip(kattisPackage()), { token: server.adminToken, query: "?difficulty=hard" });
    assert.equal(response.status, 201, response.text);
    const problem = problemSchema.parse(response.body.data);
    assert.equal(problem.title, "Circle Area");
    assert.equal(problem.difficulty, "hard");
    assert.match(problem.description, /area of a circle/);
    assert.equal(problem.timeLimitMs, 1500);
    assert.equal(problem.memoryLimitMb, 512);
    assert.deepEqual(problem.checker, { type: "float", epsilon: 1e-4, caseSensitive: false });
    assert.deepEqual(
      problem.testCases.map((t) => [t.input.trim(), t.hidden, t.group ?? null]),
      [["1", false, null], ["10", true, "large"], ["100", true, "large"], ["2", true, "small"], ["3", true, "small"]],
    );
    assert.deepEqual(problem.groups, [{ name: "large", points: 50 }, { name: "small", points: 50 }]);
    const stored = await call(server, "GET", `/api/v1/problems/${problem._id}`, { token: server.adminToken });
    assert.deepEqual(problemSchema.parse(stored.body.data), problem);
    const seen = publicProblemSchema.parse((await call(server, "GET", `/api/v1/problems/${problem._id}`, { token: server.userToken })).body.data);
    assert.equal(seen.testCases.length, 1, "secret data stays hidden");
    assert.equal(seen.totalTestCases, 5);
  });

  it("imports a custom output validator in Python (kattis protocol) from a package inside one top-level directory; users never see its code", async () => {
    const entries = kattisPackage({
      prefix: "circle/",
      yaml: "name: Any Order\nvalidation: custom\n",
      extra: { ".timelimit": null, "output_validators/order/validate.py": VALIDATOR, "output_validators/order/helper.txt": "notes\n" },
    });
    // A zip made on macOS also holds __MACOSX/ resource forks beside the package directory.
    const response = await upload(buildZip([...entries, { name: "__MACOSX/circle/._problem.yaml", data: "\u0000\u0005" }]), { token: server.adminToken });
    assert.equal(response.status, 201, response.text);
    const problem = problemSchema.parse(response.body.data);
    assert.equal(problem.timeLimitMs, 2000, "no .timelimit: 2 s");
    assert.equal(problem.difficulty, "medium");
    assert.deepEqual(problem.checker, { type: "custom", protocol: "kattis", language: "PYTHON", source: VALIDATOR, files: [{ name: "helper.txt", content: "notes\n" }] });

    const anonymous = await call(server, "GET", `/api/v1/problems/${problem._id}`);
    assert.deepEqual(anonymous.body.data && (anonymous.body.data as Problem).checker, { type: "custom", protocol: "kattis" });
    assert.ok(!anonymous.text.includes("sys.exit"), "the validator's code never reaches a non-admin");

    // The test set an evaluator fetches carries the validator, and its hash covers it.
    const service = await signServiceToken("evaluator-service", TEST_JWT_SECRET);
    const set = testSetSchema.parse((await call(server, "GET", `/internal/v1/problems/${problem._id}/test-set/${problem.testSet.hash}`, { token: service })).body.data);
    assert.deepEqual(set.checker, problem.checker);
    assert.equal(testSetContentHash(set), problem.testSet.hash);
    const judging = await call(server, "GET", `/internal/v1/problems/${problem._id}`, { token: service });
    assert.ok(!judging.text.includes("sys.exit"), "a job never carries the checker's code");
  });

  it("refuses malformed, incomplete, traversing and bombing packages with the reason, and stores nothing", async () => {
    const before = (await call(server, "GET", "/api/v1/problems?limit=100", { token: server.adminToken })).body.data as { pagination: { total: number } };
    await refused(kattisPackage({ extra: { "problem.yaml": null } }), /problem\.yaml is missing/);
    await refused(kattisPackage({ extra: { "data/secret/small/2.ans": null } }), /data\/secret\/small\/2\.in has no 2\.ans/);
    await refused(kattisPackage({ extra: { "data/sample/2.ans": "x\n" } }), /data\/sample\/2\.ans has no 2\.in/);
    await refused([...kattisPackage(), { name: "data/../../etc/passwd.in", data: "x" }], /leaves the package/);
    await refused([...kattisPackage(), { name: "/etc/cron.d/x", data: "x" }], /leaves the package/);
    await refused([...kattisPackage(), { name: "data/secret/link.in", data: "/etc/shadow", mode: 0o120777 }], /symbolic link/);
    // 64 MiB of zeros whose headers claim 1 KiB: stopped while inflating, at the declared size.
    await refused([...kattisPackage(), { name: "data/secret/bomb.in", data: Buffer.alloc(64 * 1024 * 1024), declaredSize: 1024 }], /inflates past the size its header declares/);
    // An honest header over the per-file cap is refused before anything is inflated.
    await refused([...kattisPackage(), { name: "data/secret/huge.in", data: "x", declaredSize: 9 * 1024 * 1024 }], /larger than 8388608 bytes/);
    await refused(Array.from({ length: 2_001 }, (_, i) => ({ name: `f${i}`, data: "" })), /2001 entries; at most 2000/);
    await refused(kattisPackage({ yaml: "name: Guess\nvalidation: default interactive\n" }), /interactive problems: custom interactive/);
    await refused(kattisPackage({ yaml: "name: [unclosed\n" }), /problem\.yaml is not valid YAML/);
    await refused(kattisPackage({ yaml: "validator_flags: float_absolute_tolerance 1e-6 float_relative_tolerance 1e-4\n" }), /different absolute and relative/);
    await refused(kattisPackage({ yaml: "name: X\nvalidation: custom\n" }), /output_validators\/ is empty/);
    await refused(kattisPackage({ extra: { "data/secret/small/1.in": null, "data/secret/small/1.ans": null, "data/secret/small/2.in": null, "data/secret/small/2.ans": null, "data/secret/large/9.in": null, "data/secret/large/9.ans": null, "data/secret/large/10.in": null, "data/secret/large/10.ans": null } }), /no secret tests/);
    await refused(Buffer.from("PK\u0003\u0004 certainly not a zip"), /not a valid zip archive|could not be read/);
    // A NUL byte in a test file: the file and why (was "invalid problem" with a path into testCases).
    await refused(kattisPackage({ extra: { "data/secret/large/9.ans": "314\u000015927\n" } }), /data\/secret\/large\/9\.ans has a NUL byte at offset 3: .*text/);
    await refused(kattisPackage({ extra: { "data/sample/1.in": "\u0000" } }), /data\/sample\/1\.in has a NUL byte at offset 0/);
    await refused([...kattisPackage(), { name: "data/secret/small/3.in", data: "1\n" }, { name: "data/secret/small/3.ans", data: Buffer.from([0xff, 0x0a]) }], /data\/secret\/small\/3\.ans is not UTF-8 text/);
    const after = (await call(server, "GET", "/api/v1/problems?limit=100", { token: server.adminToken })).body.data as { pagination: { total: number } };
    assert.equal(after.pagination.total, before.pagination.total, "nothing half-imported");
  });

  it("is for admins, takes a zip only, and answers other methods with 405", async () => {
    const zip = buildZip(kattisPackage());
    assert.equal((await upload(zip, {})).status, 401);
    assert.equal((await upload(zip, { token: server.userToken })).status, 403);
    assert.equal((await upload(zip, { token: server.adminToken, type: "application/json" })).status, 415);
    assert.equal((await upload(zip, { token: server.adminToken, query: "?difficulty=impossible" })).status, 400);
    assert.equal((await call(server, "GET", "/api/v1/problems/import", { token: server.adminToken })).status, 405);
    const doc = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as { paths: Record<string, { post?: { requestBody?: { content?: Record<string, unknown> } } }> };
    assert.ok(doc.paths["/api/v1/problems/import"]?.post?.requestBody?.content?.["application/zip"], "documented in OpenAPI");
  });
});
