import { QUEUES, SUBMISSION_JOB, submissionJobId, submissionJobSchema, type SubmissionJob } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { Queue } from "bullmq";
import { Redis } from "ioredis";

export interface SubmissionQueueOptions {
  redisUrl: string;
  /** BullMQ key prefix (REDIS_PREFIX): the evaluator must use the same one. */
  prefix: string;
}

export interface SubmissionQueueHandle {
  queue: Queue;
  close(): Promise<void>;
}

/**
 * Finished jobs are removed: they are diagnostics, not the record (the database
 * is), and every one holds its payload in Redis. A short window is kept by age
 * (an hour of completed, a day of failed jobs), capped by count for busy hours.
 */
export const KEEP_COMPLETED = { age: 3_600, count: 1_000 } as const;
export const KEEP_FAILED = { age: 24 * 3_600, count: 1_000 } as const;

/**
 * Producer side of SubmissionQueue. The connection refuses to buffer commands
 * while Redis is away (enableOfflineQueue: false), so an outage surfaces as a
 * fast 503 instead of a request that hangs and a job that appears later for a
 * submission we have already rolled back.
 */
export function createSubmissionQueue(options: SubmissionQueueOptions): SubmissionQueueHandle {
  const connection = new Redis(options.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A half-open connection must not hold a request forever either.
    commandTimeout: 5_000,
    connectTimeout: 5_000,
  });
  // ioredis emits connection errors as events; without a listener they become crashes.
  connection.on("error", () => {});
  const queue = new Queue(QUEUES.submission, {
    connection,
    prefix: options.prefix,
    defaultJobOptions: {
      // jobId = submissionId makes a retried add a no-op, so a second attempt is safe.
      attempts: 2,
      backoff: { type: "exponential", delay: 1_000 },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    },
  });
  queue.on("error", () => {});
  return {
    queue,
    async close() {
      await queue.close().catch(() => {});
      connection.disconnect();
    },
  };
}

/** How long a request waits for the producer connection before answering 503. */
export const DEFAULT_ENQUEUE_TIMEOUT_MS = 3_000;

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  // The loser of the race may still reject later (a refused connect): that must not become an unhandled rejection.
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Adds the job with jobId = submissionId. Waits for the connection to be ready
 * *before* issuing the add (waiting issues no command), so a timed-out request
 * leaves no job behind. Any failure is QUEUE_UNAVAILABLE.
 */
export interface EnqueueOptions {
  timeoutMs?: number | undefined;
  /**
   * BullMQ priority (1 = first). Fairness between users: a user's k-th submission
   * in flight is queued with priority k, so everyone's first submission is judged
   * before anyone's second (see SubmissionsService.create).
   */
  priority?: number | undefined;
}

export async function enqueueSubmission(queue: Queue, job: SubmissionJob, options: EnqueueOptions = {}): Promise<void> {
  const payload = submissionJobSchema.parse(job);
  const timeoutMs = options.timeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS;
  try {
    await withTimeout(queue.waitUntilReady(), timeoutMs, "queue connection not ready");
    // jobId = submissionId for the first judging, a fresh id per rejudge generation (see submissionJobId).
    const jobId = submissionJobId(payload.submissionId, payload.generation ?? 0);
    const jobOptions = options.priority === undefined ? { jobId } : { jobId, priority: options.priority };
    await withTimeout(queue.add(SUBMISSION_JOB, payload, jobOptions), timeoutMs, "enqueue timed out");
  } catch (error) {
    throw new AppError("QUEUE_UNAVAILABLE", "submission queue is unavailable; try again shortly", { cause: error });
  }
}

/** Health probe for the producer connection. */
export async function pingQueue(queue: Queue, timeoutMs = 1_000): Promise<void> {
  const client = await withTimeout(queue.client, timeoutMs, "queue connection not ready");
  await withTimeout(client.runCommand("ping", []), timeoutMs, "redis ping timed out");
}
