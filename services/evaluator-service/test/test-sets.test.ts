// The evaluator's test-set cache and provider against a real problem-service (Express + PGlite).
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { after, before, test } from "node:test";
import { signToken } from "@sonocode/auth";
import type { Problem, TestSet } from "@sonocode/contracts";
import { testSetHash } from "@sonocode/contracts/test-set-hash";
import { silentLogger } from "@sonocode/logger";
import { buildProblemApp } from "@sonocode/problem-service";
import { createStore, type Store } from "@sonocode/store";
import { createTestSetCache, createTestSetClient, createTestSetProvider, TestSetGoneError } from "../src/index.js";

const SECRET = "evaluator-test-sets-secret-0123456789abcdef";
let store: Store;
let server: Server;
let baseUrl: string;
let problem: Problem;

before(async () => {
  store = await createStore({ kind: "pglite", dataDir: null });
  server = buildProblemApp({ problems: store.problems, jwtSecret: SECRET, logger: silentLogger() }).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  problem = await store.problems.create({
    title: "A+B", description: "d", difficulty: "easy", codeStubs: [],
    testCases: [{ input: "1 2\n", output: "3\n", hidden: false }, { input: "secret\n", output: "42\n", hidden: true }],
  });
});
after(async () => {
  server.close();
  await store.close();
});

function countingClient() {
  const client = createTestSetClient({ baseUrl, jwtSecret: SECRET });
  const counter = { fetches: 0 };
  return { counter, client: { fetch: (id: string, hash: string) => ((counter.fetches += 1), client.fetch(id, hash)) } };
}

test("fetched once, verified, cached as files; later jobs (and other evaluators on the host) read the disk", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sonocode-ts-"));
  const { client, counter } = countingClient();
  const provider = createTestSetProvider({ cache: createTestSetCache({ dir, maxBytes: 1 << 20 }), client });
  const ref = { problemId: problem._id, hash: problem.testSet.hash, count: 2 };
  const [a, b] = await Promise.all([provider.resolve(ref), provider.resolve(ref)]);
  assert.equal(counter.fetches, 1, "concurrent jobs share one fetch");
  assert.equal(a.changed, false);
  assert.deepEqual(a.set.tests.map((t) => t.hidden), [false, true]);
  assert.equal(await readFile(a.set.tests[1]!.inputFile, "utf8"), "secret\n");
  assert.equal(await readFile(b.set.tests[0]!.outputFile, "utf8"), "3\n");
  await Promise.all([a.release(), b.release()]);
  const other = countingClient();
  const second = createTestSetProvider({ cache: createTestSetCache({ dir, maxBytes: 1 << 20 }), client: other.client });
  const again = await second.resolve(ref);
  assert.equal(other.counter.fetches, 0, "a second evaluator on the host hits the disk cache");
  await again.release();
});

test("a test set whose body does not match its hash is never cached", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sonocode-ts-"));
  const forged: TestSet = { problemId: problem._id, hash: problem.testSet.hash, tests: [{ input: "1 2\n", output: "4\n", hidden: false }] };
  const provider = createTestSetProvider({ cache: createTestSetCache({ dir, maxBytes: 1 << 20 }), client: { fetch: async () => ({ kind: "found", testSet: forged }) } });
  await assert.rejects(provider.resolve({ problemId: problem._id, hash: problem.testSet.hash, count: 1 }), /served test set/);
  assert.equal(await createTestSetCache({ dir, maxBytes: 1 << 20 }).acquire(problem.testSet.hash), null);
});

test("edited after the POST: judged against the current tests (changed = true); deleted: TestSetGoneError", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sonocode-ts-"));
  const provider = createTestSetProvider({ cache: createTestSetCache({ dir, maxBytes: 1 << 20 }), client: createTestSetClient({ baseUrl, jwtSecret: SECRET }) });
  const edited = await store.problems.create({ title: "E", description: "d", difficulty: "easy", codeStubs: [], testCases: [{ input: "a", output: "a", hidden: false }] });
  const oldRef = { problemId: edited._id, hash: edited.testSet.hash, count: 1 };
  const now = await store.problems.update(edited._id, { testCases: [{ input: "b", output: "b", hidden: true }] });
  const resolved = await provider.resolve(oldRef);
  assert.equal(resolved.changed, true);
  assert.equal(resolved.set.hash, now?.testSet.hash);
  assert.equal(await readFile(resolved.set.tests[0]!.inputFile, "utf8"), "b");
  await resolved.release();
  await store.problems.delete(edited._id);
  await assert.rejects(provider.resolve({ problemId: edited._id, hash: "0".repeat(64), count: 1 }), TestSetGoneError);
});

test("LRU under the byte cap; a leased set is never evicted", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sonocode-ts-"));
  const cache = createTestSetCache({ dir, maxBytes: 2_500, minIdleMs: 0 });
  const set = (label: string): TestSet => {
    const tests = [{ input: label.repeat(1_000), output: "", hidden: false }];
    return { problemId: problem._id, hash: testSetHash(tests), tests };
  };
  const [x, y, z] = [set("x"), set("y"), set("z")];
  await cache.put(x);
  await cache.put(y);
  const held = await cache.acquire(x.hash); // x becomes most recent and leased
  assert.ok(held);
  await cache.put(z); // 3 000 bytes > cap: y (least recent, unleased) goes
  assert.equal(await cache.acquire(y.hash), null);
  assert.ok(await cache.size() <= 2_500);
  const zLease = await cache.acquire(z.hash);
  assert.ok(zLease);
  await zLease.release();
  await cache.put(y); // x is leased: z goes instead, although x was used earlier
  assert.ok(await cache.acquire(x.hash));
  assert.equal(await cache.acquire(z.hash), null);
  await held.release();
  // service tokens only: a user token cannot read test sets
  const denied = await fetch(`${baseUrl}/internal/v1/problems/${problem._id}/test-set/${problem.testSet.hash}`, { headers: { authorization: `Bearer ${await signToken({ sub: "u", role: "admin" }, SECRET)}` } });
  assert.equal(denied.status, 403);
});

test("a relative cache dir still hands the judge absolute file paths (it refuses relative ones)", async () => {
  const base = await mkdtemp(join(tmpdir(), "sonocode-ts-rel-"));
  const cwd = process.cwd();
  process.chdir(base);
  try {
    const provider = createTestSetProvider({ cache: createTestSetCache({ dir: "./cache", maxBytes: 1 << 20 }), client: countingClient().client });
    const lease = await provider.resolve({ problemId: problem._id, hash: problem.testSet.hash, count: 2 });
    for (const t of lease.set.tests) assert.ok(isAbsolute(t.inputFile) && isAbsolute(t.outputFile), t.inputFile);
    await lease.release();
  } finally {
    process.chdir(cwd);
  }
});
