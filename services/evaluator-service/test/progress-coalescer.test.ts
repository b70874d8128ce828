// The coalescing rules on a controlled clock: which counts are published, when, and never after finish().
import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { createProgressCoalescer } from "../src/index.js";

function harness(intervalMs = 250) {
  mock.timers.enable({ apis: ["setTimeout"] });
  let clock = 0;
  const published: Array<{ passed: number; at: number }> = [];
  const coalescer = createProgressCoalescer({
    intervalMs,
    now: () => clock,
    publish: async (passed) => {
      published.push({ passed, at: clock });
    },
  });
  const advance = (ms: number) => {
    clock += ms;
    mock.timers.tick(ms);
  };
  return { coalescer, published, advance };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test("the announcement and the first test go out at once; a burst of fast tests collapses into one latest count per interval", async (t) => {
  t.after(() => mock.timers.reset());
  const { coalescer, published, advance } = harness();
  coalescer.update(0);
  coalescer.update(1);
  await settle();
  assert.deepEqual(published.map((p) => p.passed), [0, 1]);
  // 1 ms tests: 2..100 within 99 ms, nothing new is published before the interval.
  for (let passed = 2; passed <= 100; passed += 1) {
    advance(1);
    coalescer.update(passed);
  }
  await settle();
  assert.equal(published.length, 2);
  advance(250);
  await settle();
  assert.deepEqual(published.map((p) => p.passed), [0, 1, 100], "one publish, carrying the latest count");
  // 1,000 tests over 2.5 s: at most one per 250 ms.
  for (let passed = 101; passed <= 1_100; passed += 1) {
    advance(2.5);
    coalescer.update(passed);
    await settle();
  }
  assert.ok(published.length <= 3 + 11, `${published.length} publishes for 1,100 tests`);
  for (let i = 3; i < published.length; i += 1) assert.ok(published[i]!.at - published[i - 1]!.at >= 250, "never two within the interval");
  for (let i = 1; i < published.length; i += 1) assert.ok(published[i]!.passed > published[i - 1]!.passed, "increasing, no repeats");
  await coalescer.finish();
});

test("nothing is published after finish(), not even the pending latest count", async (t) => {
  t.after(() => mock.timers.reset());
  const { coalescer, published, advance } = harness();
  coalescer.update(0);
  coalescer.update(1);
  advance(10);
  coalescer.update(2); // pending for the next slot
  await coalescer.finish();
  advance(1_000);
  coalescer.update(3);
  await settle();
  assert.deepEqual(published.map((p) => p.passed), [0, 1]);
});

test("finish() waits for the publish in flight, so progress reaches the queue before the verdict", async () => {
  let release!: () => void;
  const order: string[] = [];
  const coalescer = createProgressCoalescer({
    publish: (passed) =>
      new Promise<void>((resolve) => {
        release = () => {
          order.push(`progress ${passed}`);
          resolve();
        };
      }),
  });
  coalescer.update(0);
  await new Promise<void>((resolve) => setImmediate(resolve));
  const finished = coalescer.finish().then(() => order.push("verdict"));
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(order, []);
  release();
  await finished;
  assert.deepEqual(order, ["progress 0", "verdict"]);
});

test("a failing publish neither throws out of update() nor stops later counts", async () => {
  const published: number[] = [];
  const coalescer = createProgressCoalescer({
    intervalMs: 0,
    publish: async (passed) => {
      if (passed === 0) throw new Error("redis hiccup");
      published.push(passed);
    },
  });
  coalescer.update(0);
  coalescer.update(1);
  await coalescer.finish();
  assert.deepEqual(published, [1]);
});

test("holdFirstCount: only the announcement goes out at once; a judging done within one interval of its first test publishes nothing more, a slower one its latest count one interval on", async (t) => {
  mock.timers.enable({ apis: ["setTimeout"] });
  t.after(() => mock.timers.reset());
  let clock = 0;
  const advance = (ms: number) => {
    clock += ms;
    mock.timers.tick(ms);
  };
  const published: Array<{ passed: number; at: number }> = [];
  const make = () =>
    createProgressCoalescer({ intervalMs: 250, holdFirstCount: true, now: () => clock, publish: async (passed) => void published.push({ passed, at: clock }) });

  // Fast: compile 400 ms, then 10 tests of 5 ms, verdict.
  const fast = make();
  fast.update(0);
  advance(400);
  for (let passed = 1; passed <= 10; passed += 1) {
    fast.update(passed);
    advance(5);
  }
  await fast.finish();
  assert.deepEqual(published.map((p) => p.passed), [0], "the announcement only");

  // Slow: the first test's count waits one interval, then one latest count per interval.
  published.length = 0;
  const slow = make();
  const start = clock;
  slow.update(0);
  advance(400);
  slow.update(1);
  await settle();
  assert.deepEqual(published.map((p) => p.passed), [0], "the first count is held");
  advance(100);
  slow.update(2);
  advance(150);
  await settle();
  assert.deepEqual(published.map((p) => p.passed), [0, 2], "one interval after the first count, carrying the latest");
  assert.equal(published[1]!.at - start, 650);
  advance(100);
  slow.update(3);
  advance(150);
  await settle();
  assert.deepEqual(published.map((p) => p.passed), [0, 2, 3]);
  await slow.finish();
});
