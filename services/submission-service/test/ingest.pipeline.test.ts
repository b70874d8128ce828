// The POST path's Redis (issue 9): the rate-limit counts and job adds of one event-loop
// turn share one Redis pipeline, and each caller still learns its own command's fate.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { JUDGE_DEFAULTS, type SubmissionJob } from "@sonocode/contracts";
import { freePort, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { Job } from "bullmq";
import { createIngestPipeline, createSubmissionQueue, type SubmissionQueueHandle } from "../src/index.js";

let handle: SubmissionQueueHandle;
before(() => {
  handle = createSubmissionQueue({ redisUrl: testRedisUrl(), prefix: uniqueName("enqueue-batch") });
});
after(async () => {
  await handle.queue.obliterate({ force: true }).catch(() => undefined);
  await handle.close();
});

function job(index: number): SubmissionJob {
  const submissionId = (0x6a00000000000000000000n + BigInt(index)).toString(16).padStart(24, "0");
  return {
    submissionId,
    userId: `user-${index % 3}`,
    problemId: "0123456789abcdef01234567",
    language: "PYTHON",
    source: "print(1)",
    testSet: { problemId: "0123456789abcdef01234567", hash: "a".repeat(64), count: 1 },
    timeLimitMs: JUDGE_DEFAULTS.timeLimitMs,
    memoryLimitMb: JUDGE_DEFAULTS.memoryLimitMb,
    checker: { type: "exact" },
    runAllTests: false,
  };
}

/** Counts the pipelines opened on the producer's connection. */
async function countPipelines(queue: SubmissionQueueHandle): Promise<() => number> {
  const client = await queue.queue.client;
  const original = client.pipeline.bind(client);
  let opened = 0;
  client.pipeline = ((...args: Parameters<typeof client.pipeline>) => {
    opened += 1;
    return original(...args);
  }) as typeof client.pipeline;
  return () => opened;
}

describe("ingest pipeline", () => {
  test("24 adds in one turn: one pipeline, every job stored with its id and priority", async () => {
    const batcher = createIngestPipeline(handle.queue);
    await handle.queue.waitUntilReady();
    const pipelines = await countPipelines(handle);
    const jobs = Array.from({ length: 24 }, (_, index) => job(index));
    await Promise.all(jobs.map((payload, index) => batcher.enqueue(payload, { priority: (index % 4) + 1 })));
    assert.equal(pipelines(), 1);
    for (const [index, payload] of jobs.entries()) {
      const stored = await Job.fromId(handle.queue, payload.submissionId);
      assert.ok(stored, `job ${index} is in Redis under jobId = submissionId`);
      assert.equal(stored.priority, (index % 4) + 1);
      assert.deepEqual(stored.data, payload);
    }
  });

  test("rate-limit counts ride in the same pipeline as the adds; a fixed window per key", async () => {
    const batcher = createIngestPipeline(handle.queue);
    await handle.queue.waitUntilReady();
    const pipelines = await countPipelines(handle);
    const key = `${handle.queue.opts.prefix}:count-test:${Date.now()}`;
    const [first, , second, third] = await Promise.all([
      batcher.countInWindow(key, 60_000),
      batcher.enqueue(job(50)),
      batcher.countInWindow(key, 60_000),
      batcher.countInWindow(key, 60_000),
    ]);
    assert.equal(pipelines(), 1);
    assert.deepEqual([first.current, second.current, third.current], [1, 2, 3]);
    for (const { ttl } of [first, second, third]) assert.ok(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);
    assert.ok(await Job.fromId(handle.queue, job(50).submissionId));
    const client = await handle.queue.client;
    await client.runCommand("del", [key]);
  });

  test("a job BullMQ refuses fails only its own caller; the rest of the batch is stored", async () => {
    const batcher = createIngestPipeline(handle.queue);
    const good = [job(100), job(101)];
    // BullMQ refuses priorities above 2^21 before anything is sent.
    const results = await Promise.allSettled([batcher.enqueue(good[0]!), batcher.enqueue(job(102), { priority: 2 ** 22 }), batcher.enqueue(good[1]!)]);
    assert.equal(results[0]!.status, "fulfilled");
    assert.equal(results[2]!.status, "fulfilled");
    assert.equal(results[1]!.status, "rejected");
    assert.equal((results[1] as PromiseRejectedResult).reason.code, "QUEUE_UNAVAILABLE");
    assert.ok(await Job.fromId(handle.queue, good[0]!.submissionId));
    assert.ok(await Job.fromId(handle.queue, good[1]!.submissionId));
    assert.equal(await Job.fromId(handle.queue, job(102).submissionId), undefined);
  });

  test("Redis unreachable: every caller of the batch gets a prompt QUEUE_UNAVAILABLE", async () => {
    const dead = createSubmissionQueue({ redisUrl: `redis://127.0.0.1:${await freePort()}`, prefix: uniqueName("enqueue-dead") });
    try {
      const batcher = createIngestPipeline(dead.queue, { timeoutMs: 500 });
      const started = Date.now();
      const results = await Promise.allSettled([batcher.enqueue(job(200)), batcher.enqueue(job(201))]);
      assert.ok(Date.now() - started < 3_000);
      for (const result of results) {
        assert.equal(result.status, "rejected");
        assert.equal((result as PromiseRejectedResult).reason.code, "QUEUE_UNAVAILABLE");
      }
    } finally {
      await dead.close();
    }
  });
});
