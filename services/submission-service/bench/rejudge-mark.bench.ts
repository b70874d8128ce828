// Marking a large rejudge on in-memory PGlite: N submissions (half of them of the rejudged problem),
// then the rejudge request (what the admin waits for) and its background marking (pages of 500), the feeder's window query and the per-user in-flight count (which
// must skip rejudges through its partial index). Usage: npx tsx services/submission-service/bench/rejudge-mark.bench.ts [N]
import { createStore } from "@sonocode/store";
import { silentLogger } from "@sonocode/logger";
import { RejudgeService } from "../src/rejudge/rejudge.service.js";
import { REJUDGE_MARKER_DEFAULTS } from "../src/rejudge/rejudge.marker.js";
const N = Number(process.argv[2] ?? 10000);
const store = await createStore({ kind: "pglite", dataDir: null });
const problem = await store.problems.create({ title: "t", description: "d", difficulty: "easy", codeStubs: [], testCases: [{ input: "1", output: "1", hidden: false }] });
const other = await store.problems.create({ title: "t", description: "d", difficulty: "easy", codeStubs: [], testCases: [{ input: "1", output: "1", hidden: false }] });
for (let i = 0; i < N; i += 500) {
  await store.submissions.createMany(Array.from({ length: Math.min(500, N - i) }, (_, j) => ({ userId: `u${(i + j) % 50}`, problemId: j % 2 ? problem._id : other._id, language: "PYTHON" as const, code: "print(1)", total: 1 })));
}
const t0 = performance.now();
const result = await new RejudgeService({ store }).request(problem._id, null, silentLogger());
const tRequest = performance.now();
while (!(await store.rejudgeRequests.markNext(result._id, REJUDGE_MARKER_DEFAULTS.pageSize, new Date().toISOString()))?.done);
const t1 = performance.now();
const window = await store.rejudges.listRejudging(32);
const t2 = performance.now();
const fresh = await store.submissions.countActiveByUser("u2");
const t3 = performance.now();
console.log(JSON.stringify({ submissions: N, queued: result.queued, marked: (await store.rejudgeRequests.findById(result._id))?.marked, requestMs: +(tRequest - t0).toFixed(1), markMs: Math.round(t1 - tRequest), windowQueryMs: +(t2 - t1).toFixed(1), inFlightCountMs: +(t3 - t2).toFixed(1), freshActiveOfU2: fresh }));
await store.close();
