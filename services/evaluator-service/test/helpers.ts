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
  /** Every EvaluationQueue job in the order it was consumed (= queue order: concurrency 1). */
  readonly arrivals: Array<{ name: string; submissionId: string; passed: number }> = [];
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
          this.arrivals.push({ name: job.name, submissionId: event.submissionId, passed: event.passed });
          this.progress.set(event.submissionId, [...(this.progress.get(event.submissionId) ?? []), event]);
        } else if (job.name === EVALUATION_JOBS.result) {
          const result = evaluationResultSchema.parse(job.data);
          this.arrivals.push({ name: job.name, submissionId: result.submissionId, passed: result.passed });
          this.results.set(result.submissionId, [...(this.results.get(result.submissionId) ?? []), result]);
        } else {
          throw new Error(`unexpected job name ${job.name}`);
        }
      },
      // Concurrency 1 so the recorded order is the queue order.
      { connection: this.consumerConnection, prefix, concurrency: 1 },
    );
  }

  /**
   * Every result of a submission once the first has arrived and a short quiet period passed, so a
   * duplicate would be seen (each arrival replaces the recorded array: re-read, never keep one).
   */
  async settledResults(submissionId: string, timeoutMs = 30_000, quietMs = 500): Promise<EvaluationResult[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.results.has(submissionId)) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for the result of ${submissionId}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    return this.results.get(submissionId) ?? [];
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
