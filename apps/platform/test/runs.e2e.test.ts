// "Run code" end to end: the four services on real Redis, PGlite and the bwrap sandbox. A user
// runs code on the visible tests and on a custom input (expected output from the problem's
// reference solution, or null without one) and receives run:result over socket.io (the run
// without its texts, which come from GET /api/v1/runs/:id); hidden tests and the reference's
// code never appear; runs are served ahead of queued submissions.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { signToken } from "@sonocode/auth";
import { runResultEventSchema } from "@sonocode/contracts";
import { eventually, uniqueName } from "@sonocode/testkit";
import type { Platform } from "../src/platform.js";
import { AB_PROBLEM, PYTHON_AB_OK, PYTHON_AB_WRONG, TEST_JWT_SECRET, call, connectSocket, startTestPlatform, type ClientSocket } from "./helpers.js";

const REFERENCE_CODE = "x, y = map(int, input().split())\nprint(x + y)  # reference-marker\n";

describe("run code end to end (embedded wiring)", () => {
  let platform: Platform;
  let admin: string;
  let withReference: string;
  let withoutReference: string;
  const sockets: ClientSocket[] = [];
  const token = (sub: string) => signToken({ sub, role: "user" }, TEST_JWT_SECRET);

  async function socketFor(userToken: string): Promise<{ runs: any[]; submissions: any[]; order: string[] }> {
    const socket = await connectSocket(platform.urls.socket, userToken);
    sockets.push(socket);
    const seen = { runs: [] as any[], submissions: [] as any[], order: [] as string[] };
    socket.on("run:result", (payload) => {
      seen.runs.push(payload);
      seen.order.push(payload._id);
    });
    socket.on("submissionPayloadResponse", (payload) => {
      seen.submissions.push(payload);
      seen.order.push(payload._id);
    });
    return seen;
  }

  /** The run as its owner reads it (texts included) after its run:result event, checked to be that event plus the texts. */
  async function readAfterEvent(userToken: string, pushed: any): Promise<any> {
    const read = await call(platform.urls.submission, "GET", `/api/v1/runs/${pushed._id}`, { token: userToken });
    assert.equal(read.status, 200);
    assert.deepEqual(runResultEventSchema.parse(pushed), pushed, "the event has no texts (strict contract)");
    const { compileOutput: _compileOutput, results, ...fields } = read.body.data;
    assert.deepEqual({ ...fields, results: results.map(({ input: _i, output: _o, expected: _e, ...kept }: any) => kept) }, pushed, "the event is the read without its texts");
    return read.body.data;
  }

  before(async () => {
    // One evaluator slot, so queue order is observable; no in-flight cap (the priority test queues several).
    platform = await startTestPlatform(uniqueName("runs-e2e"), { limits: { perMinute: 5, maxInFlight: 0 } });
    admin = await signToken({ sub: "admin-1", role: "admin" }, TEST_JWT_SECRET);
    const a = await call(platform.urls.problem, "POST", "/api/v1/problems", { token: admin, body: { ...AB_PROBLEM, referenceSolution: { language: "python", code: REFERENCE_CODE } } });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    withReference = a.body.data._id;
    const b = await call(platform.urls.problem, "POST", "/api/v1/problems", { token: admin, body: { ...AB_PROBLEM, title: "A + B (no reference)" } });
    assert.equal(b.status, 201, JSON.stringify(b.body));
    withoutReference = b.body.data._id;
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await platform?.close();
  });

  test("a run on the visible tests: every visible test's status over the socket, its output from GET, never a hidden test", async () => {
    const alice = await token("alice");
    const [aliceTab, bobTab] = [await socketFor(alice), await socketFor(await token("bob"))];
    const created = await call(platform.urls.submission, "POST", "/api/v1/runs", { token: alice, body: { problemId: withReference, language: "python", code: PYTHON_AB_WRONG } });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.deepEqual(Object.keys(created.body.data.run).sort(), ["_id", "status"]);
    assert.equal(created.body.data.run.status, "Pending");
    const runId = created.body.data.run._id;

    await eventually(() => aliceTab.runs.find((run) => run._id === runId), "run:result", 60_000);
    const pushed = aliceTab.runs.find((run) => run._id === runId);
    assert.equal(pushed.status, "WA");
    assert.deepEqual(pushed.results.map(({ index, status }: any) => ({ index, status })), [{ index: 0, status: "WA" }, { index: 1, status: "WA" }]);
    assert.ok(!JSON.stringify(pushed).includes("1 2"), "no input in the event");

    const own = await readAfterEvent(alice, pushed);
    assert.equal(own.compileOutput, null);
    assert.deepEqual(
      own.results.map(({ index, input, output, expected, status }: any) => ({ index, input, output, expected, status })),
      [
        { index: 0, input: "1 2\n", output: "-1\n", expected: "3\n", status: "WA" },
        { index: 1, input: "5 7\n", output: "-2\n", expected: "12\n", status: "WA" },
      ],
    );
    assert.ok(!JSON.stringify(own).includes("100 -1"), "the hidden test's input never appears");
    assert.equal((await call(platform.urls.submission, "GET", `/api/v1/runs/${runId}`, { token: admin })).status, 200);
    const other = await call(platform.urls.submission, "GET", `/api/v1/runs/${runId}`, { token: await token("bob") });
    assert.equal(other.status, 404);
    assert.equal(bobTab.runs.length, 0, "never to another user");

    // A run is not a submission: the problem's submission history stays empty.
    assert.equal((await platform.store.submissions.listByUser("alice", { page: 1, limit: 10 })).total, 0);
  });

  test("a custom input is judged against the reference solution's output, whose code never appears", async () => {
    const carol = await token("carol");
    const tab = await socketFor(carol);
    const post = (code: string) => call(platform.urls.submission, "POST", "/api/v1/runs", { token: carol, body: { problemId: withReference, language: "PYTHON", code, input: "10 20\n" } });
    const [wrong, right] = [await post(PYTHON_AB_WRONG), await post(PYTHON_AB_OK)];
    assert.equal(wrong.status, 202);
    assert.equal(right.status, 202);
    const ids = [wrong.body.data.run._id, right.body.data.run._id];
    await eventually(() => ids.every((id) => tab.runs.some((run) => run._id === id)), "both run results", 90_000);
    const [wa, ok] = await Promise.all(ids.map((id) => readAfterEvent(carol, tab.runs.find((run) => run._id === id))));
    assert.equal(wa.status, "WA");
    assert.deepEqual(wa.results.map(({ input, output, expected, status }: any) => ({ input, output, expected, status })), [{ input: "10 20\n", output: "-10\n", expected: "30\n", status: "WA" }]);
    assert.equal(ok.status, "Success");
    assert.equal(ok.results[0].expected, "30\n");
    for (const run of [wa, ok]) assert.ok(!JSON.stringify(run).includes("reference-marker"));
    // Runs never count in the problem's statistics (only submissions do).
    const problem = await call(platform.urls.problem, "GET", `/api/v1/problems/${withReference}`, { token: carol });
    assert.deepEqual(problem.body.data.stats, { submissions: 0, accepted: 0, acceptanceRate: 0 });
  });

  test("a custom input without a reference solution: expected is null and a normal exit is Success", async () => {
    const dave = await token("dave");
    const tab = await socketFor(dave);
    const created = await call(platform.urls.submission, "POST", "/api/v1/runs", { token: dave, body: { problemId: withoutReference, language: "python", code: PYTHON_AB_WRONG, input: "10 20\n" } });
    assert.equal(created.status, 202);
    const runId = created.body.data.run._id;
    await eventually(() => tab.runs.find((run) => run._id === runId), "run:result", 60_000);
    const run = await readAfterEvent(dave, tab.runs.find((r) => r._id === runId));
    assert.equal(run.status, "Success");
    assert.deepEqual(run.results.map(({ output, expected, status }: any) => ({ output, expected, status })), [{ output: "-10\n", expected: null, status: "Success" }]);
  });

  test("a run is served before submissions already waiting in the queue", async () => {
    const erin = await token("erin");
    const tab = await socketFor(erin);
    const submit = (code: string) => call(platform.urls.submission, "POST", "/api/v1/submissions", { token: erin, body: { problemId: withoutReference, language: "python", code } });
    // The one evaluator slot is busy with this one (three tests of 1 s each) while the others queue up.
    const busy = await submit(`import time\ntime.sleep(1)\n${PYTHON_AB_OK}`);
    assert.equal(busy.status, 201);
    await eventually(async () => (await platform.store.submissions.findById(busy.body.data.submission._id))?.status === "Running", "the first submission running", 60_000);
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) queued.push((await submit(PYTHON_AB_OK)).body.data.submission._id);
    const run = await call(platform.urls.submission, "POST", "/api/v1/runs", { token: erin, body: { problemId: withoutReference, language: "python", code: PYTHON_AB_OK } });
    assert.equal(run.status, 202);
    // Everything was queued while the first one still ran (else the order would prove nothing).
    assert.equal((await platform.store.submissions.findById(busy.body.data.submission._id))?.status, "Running");

    await eventually(() => tab.order.length >= 5, "four verdicts and the run", 120_000);
    const order = tab.order;
    const runAt = order.indexOf(run.body.data.run._id);
    const queuedAt = queued.map((id) => order.indexOf(id));
    assert.ok(queuedAt.every((at) => at > runAt), `run at ${runAt}, queued submissions at ${queuedAt.join(",")}`);
  });
});
