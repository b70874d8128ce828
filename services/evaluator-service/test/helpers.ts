import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { signServiceToken } from "@sonocode/auth";
import {
  EVALUATION_JOBS,
  QUEUES,
  SUBMISSION_JOB,
  evaluationResultSchema,
  judgingProblemSchema,
  progressEventSchema,
  type EvaluationResult,
  type JudgingProblem,
  type Problem,
  type ProblemInput,
  type ProgressEvent,
  type SubmissionJob,
} from "@sonocode/contracts";
import { createJudge, type Judge } from "@sonocode/judge";
import { silentLogger, type Logger } from "@sonocode/logger";
import { buildProblemApp } from "@sonocode/problem-service";
import { createStore, type Store } from "@sonocode/store";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createEvaluatorService, createTestSetCache, createTestSetClient, createTestSetProvider, type EvaluatorService } from "../src/index.js";

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

/**
 * The judging bench the end-to-end evaluator tests share: a PGlite store behind a listening
 * problem-service (which serves test sets and the judging view), an on-disk test-set cache and
 * its client, the real bwrap judge, the evaluator service on a fresh queue prefix, and the
 * submission-service double on the other side of the queues. Everything real but the double.
 */
export interface JudgingBench {
  store: Store;
  /** problem-service's base URL. */
  baseUrl: string;
  judge: Judge;
  service: EvaluatorService;
  submissions: SubmissionServiceDouble;
  /** The problem created from `options.problem` (undefined without one). */
  problem: Problem | undefined;
  /** problem-service's judging view of a problem, as submission-service fetches it: the raw body and its parse. */
  judgingView(problemId: string): Promise<{ text: string; view: JudgingProblem }>;
  /** A SubmissionQueue job as submission-service builds it from that view: the tests by reference only. */
  jobFor(view: JudgingProblem, overrides: Partial<SubmissionJob>): Omit<SubmissionJob, "testCases">;
  /** Queues the job (jobId = submissionId) and returns its first result once it has settled. */
  judged(job: Omit<SubmissionJob, "testCases">, timeoutMs?: number): Promise<EvaluationResult>;
  close(): Promise<void>;
}

export interface JudgingBenchOptions {
  /** The JWT secret problem-service and the test-set client share. */
  secret: string;
  /** Names the queue prefix and the cache directory. */
  name: string;
  problem?: ProblemInput;
  /** The evaluator's logger (default silent). */
  logger?: Logger;
  /** The judge's slots (default: the judge's own default). */
  maxConcurrency?: number;
}

export async function startJudgingBench(options: JudgingBenchOptions): Promise<JudgingBench> {
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const store = await createStore({ kind: "pglite", dataDir: null });
    closers.push(() => store.close());
    const server = buildProblemApp({ problems: store.problems, jwtSecret: options.secret, logger: silentLogger() }).listen(0, "127.0.0.1");
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    await once(server, "listening");
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const problem = options.problem ? await store.problems.create(options.problem) : undefined;
    const cacheDir = await mkdtemp(join(tmpdir(), `sonocode-${options.name}-`));
    closers.push(() => rm(cacheDir, { recursive: true, force: true }));
    const judge = await createJudge({ engine: "bwrap", logger: silentLogger(), ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }) });
    closers.push(() => judge.close());
    const prefix = uniqueName(options.name);
    const testSets = createTestSetProvider({ cache: createTestSetCache({ dir: join(cacheDir, "sets"), maxBytes: 1 << 20 }), client: createTestSetClient({ baseUrl, jwtSecret: options.secret }) });
    const service = createEvaluatorService({ redisUrl: testRedisUrl(), prefix, judge, logger: options.logger ?? silentLogger(), testSets });
    closers.push(() => service.close());
    const submissions = new SubmissionServiceDouble(testRedisUrl(), prefix);
    closers.push(() => submissions.close());
    return {
      store,
      baseUrl,
      judge,
      service,
      submissions,
      problem,
      async judgingView(problemId) {
        const response = await fetch(`${baseUrl}/internal/v1/problems/${problemId}`, { headers: { authorization: `Bearer ${await signServiceToken("submission-service", options.secret)}` } });
        const text = await response.text();
        return { text, view: judgingProblemSchema.parse((JSON.parse(text) as { data: unknown }).data) };
      },
      jobFor(view, overrides) {
        const { testCases: _inline, ...job } = submissionJob({ problemId: view._id, ...overrides });
        return { ...job, testSet: { problemId: view._id, hash: view.testSet.hash, count: view.testSet.count } };
      },
      async judged(job, timeoutMs = 60_000) {
        await submissions.enqueue(job, { jobId: job.submissionId });
        return (await submissions.settledResults(job.submissionId, timeoutMs, 200))[0]!;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
