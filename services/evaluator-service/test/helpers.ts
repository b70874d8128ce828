import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { randomBytes } from "node:crypto";
import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import {
  EVALUATION_JOBS,
  QUEUES,
  SUBMISSION_JOB,
  evaluationResultSchema,
  progressEventSchema,
  type EvaluationResult,
  type ProgressEvent,
  type SubmissionJob,
} from "@sonocode/contracts";

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export function objectId(): string {
  return randomBytes(12).toString("hex");
}

export const PYTHON_AB_OK = "a, b = map(int, input().split())\nprint(a + b)\n";
export const PYTHON_AB_WRONG = "a, b = map(int, input().split())\nprint(a - b)\n";
export const CPP_BROKEN = "#include <iostream>\nint main() { std::cout << undefined_name << std::endl; return 0 }\n";

export const AB_TESTS = [
  { input: "1 2\n", output: "3\n", hidden: false },
  { input: "5 7\n", output: "12\n", hidden: false },
  { input: "100 -1\n", output: "99\n", hidden: true },
];

/** A SubmissionQueue payload exactly as the submission-service builds it. */
export function submissionJob(overrides: Partial<SubmissionJob> = {}): SubmissionJob {
  return {
    submissionId: objectId(),
    userId: "user-1",
    problemId: objectId(),
    language: "PYTHON",
    source: PYTHON_AB_OK,
    testCases: AB_TESTS,
    timeLimitMs: 2_000,
    memoryLimitMb: 256,
    checker: { type: "exact" },
    runAllTests: false,
    ...overrides,
  };
}

/**
 * Both ends the submission-service owns: the SubmissionQueue producer (jobId = submissionId)
 * and an EvaluationQueue consumer that records every event per submission, re-parsed.
 */
export class SubmissionServiceDouble {
  readonly progress = new Map<string, ProgressEvent[]>();
  readonly results = new Map<string, EvaluationResult[]>();
  readonly submissionQueue: Queue;
  private readonly consumer: Worker;
  private readonly connection: Redis;
  private readonly consumerConnection: Redis;

  constructor(redisUrl: string, prefix: string) {
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.consumerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.submissionQueue = new Queue(QUEUES.submission, { connection: this.connection, prefix });
    this.consumer = new Worker(
      QUEUES.evaluation,
      async (job: Job) => {
        if (job.name === EVALUATION_JOBS.progress) {
          const event = progressEventSchema.parse(job.data);
          this.progress.set(event.submissionId, [...(this.progress.get(event.submissionId) ?? []), event]);
        } else if (job.name === EVALUATION_JOBS.result) {
          const result = evaluationResultSchema.parse(job.data);
          this.results.set(result.submissionId, [...(this.results.get(result.submissionId) ?? []), result]);
        } else {
          throw new Error(`unexpected job name ${job.name}`);
        }
      },
      // Concurrency 1 so the recorded order is the queue order.
      { connection: this.consumerConnection, prefix, concurrency: 1 },
    );
  }

  async enqueue(data: unknown, options: { jobId: string; attempts?: number }): Promise<Job> {
    return this.submissionQueue.add(SUBMISSION_JOB, data, { jobId: options.jobId, attempts: options.attempts ?? 1, backoff: { type: "fixed", delay: 50 } });
  }

  async close(): Promise<void> {
    await this.consumer.close();
    await this.submissionQueue.close();
    // Connections passed in are shared, so BullMQ leaves them open: quit them ourselves.
    await Promise.all([this.connection.quit(), this.consumerConnection.quit()]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A throwaway redis-server of our own, for tests that need to kill Redis. */
export async function startPrivateRedis(): Promise<{ url: string; kill(): Promise<void> }> {
  const { spawn } = await import("node:child_process");
  const { createServer } = await import("node:net");
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const { Redis } = await import("ioredis");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error("private redis-server did not start");
      await sleep(50);
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
