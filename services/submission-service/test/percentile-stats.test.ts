// "Beats x %" on GET /api/v1/submissions/:id and `stats` on problem-service reads, through the
// real HTTP boundaries (Fastify inject, the real problem-service on a port) over one PGlite
// store; verdicts are written with finalize, as the results consumer writes them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Language, VerdictFields } from "@sonocode/contracts";
import { bearer, startHarness, type Harness } from "./harness.js";

function verdict(overrides: Partial<VerdictFields>): VerdictFields {
  return { status: "Success", passed: 2, total: 2, timeMs: 10, memoryKb: 1000, results: [], compileOutput: null, failedTest: null, message: null, score: 100, ...overrides };
}

describe("percentile and problem stats over HTTP", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness("percentile");
  });
  after(() => h?.close());

  async function judged(userId: string, overrides: Partial<VerdictFields>, language: Language = "PYTHON") {
    const created = await h.store.submissions.create({ userId, problemId: h.problem._id, language, code: "print(1)", total: 2 });
    const result = await h.store.submissions.finalize(created._id, verdict(overrides));
    assert.equal(result?.applied, true);
    return created._id;
  }

  async function get(id: string, userId: string) {
    const response = await h.app.inject({ method: "GET", url: `/api/v1/submissions/${id}`, headers: await bearer(userId) });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().data;
  }

  it("an accepted submission has the share of other accepted ones (same problem and language) that were slower / heavier", async () => {
    const mine = await judged("alice", { timeMs: 20, memoryKb: 1500 });
    await judged("bob", { timeMs: 10, memoryKb: 2000 });
    await judged("carol", { timeMs: 30, memoryKb: 1000 });
    await judged("dave", { timeMs: 40, memoryKb: 3000 });
    await judged("erin", { timeMs: 50, memoryKb: 9000, status: "WA", passed: 1, score: 50 }); // not accepted: not compared
    await judged("frank", { timeMs: 90, memoryKb: 9000 }, "CPP"); // another language: not compared

    const body = await get(mine, "alice");
    assert.equal(body.status, "Success");
    assert.equal(body.score, 100);
    assert.deepEqual(body.percentile, { timeMs: 66.7, memoryKb: 66.7 });

    const wrong = await judged("alice", { status: "WA", passed: 1, score: 50 });
    const wa = await get(wrong, "alice");
    assert.equal(wa.score, 50);
    assert.ok(!("percentile" in wa), "only an accepted submission has a percentile");
    const alone = await get(await judged("alice", { timeMs: 5 }, "GO"), "alice");
    assert.deepEqual(alone.percentile, { timeMs: 100, memoryKb: 100 }, "the only accepted one in its language beats everyone");

    // Listing never computes percentiles.
    const list = await h.app.inject({ method: "GET", url: "/api/v1/submissions", headers: await bearer("alice") });
    assert.ok(list.json().data.submissions.every((s: Record<string, unknown>) => !("percentile" in s)));
  });

  it("problem-service reads carry stats maintained by finalize, for admins and users, one and many", async () => {
    const expected = { submissions: 8, accepted: 6, acceptanceRate: 75 };
    for (const headers of [{}, await bearer("alice"), await bearer("root", "admin")]) {
      const one = await fetch(`${h.problemServiceUrl}/api/v1/problems/${h.problem._id}`, { headers });
      assert.equal(one.status, 200);
      assert.deepEqual(((await one.json()) as { data: { stats: unknown } }).data.stats, expected);
      const list = await fetch(`${h.problemServiceUrl}/api/v1/problems`, { headers });
      const { problems } = ((await list.json()) as { data: { problems: { _id: string; stats: unknown }[] } }).data;
      assert.deepEqual(problems.find((p) => p._id === h.problem._id)?.stats, expected);
    }
  });

  it("OpenAPI documents score, groups and percentile (submission-service) and stats (problem-service)", async () => {
    const doc = JSON.stringify((await h.app.inject({ method: "GET", url: "/openapi.json" })).json());
    for (const field of ['"percentile"', '"score"', '"earned"', '"Skipped"', "when it is the only one"]) assert.ok(doc.includes(field), `submission-service OpenAPI lacks ${field}`);
    const problems = JSON.stringify(await (await fetch(`${h.problemServiceUrl}/openapi.json`)).json());
    for (const field of ['"stats"', '"acceptanceRate"', "every final status but IE"]) assert.ok(problems.includes(field), `problem-service OpenAPI lacks ${field}`);
  });
});
