import { SUBMISSION_JOB, submissionJobSchema, type SubmissionJob } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { Job, type JobsOptions, type Queue } from "bullmq";
import { DEFAULT_ENQUEUE_TIMEOUT_MS, withTimeout, type EnqueueOptions } from "./submission.queue.js";

/** Adds SubmissionQueue jobs; the POST path's only Redis write. */
export interface SubmissionEnqueuer {
  /** Resolves once the job is in Redis; QUEUE_UNAVAILABLE otherwise (the caller then removes its row). */
  enqueue(job: SubmissionJob, options?: EnqueueOptions): Promise<void>;
}

export interface EnqueueBatcherOptions {
  timeoutMs?: number | undefined;
  /** Jobs per pipeline; a burst beyond this is split over several. */
  maxBatch?: number;
}

interface Pending {
  payload: SubmissionJob;
  opts: JobsOptions;
  resolve: () => void;
  reject: (error: AppError) => void;
}

const DEFAULT_MAX_BATCH = 256;

function unavailable(cause: unknown): AppError {
  return new AppError("QUEUE_UNAVAILABLE", "submission queue is unavailable; try again shortly", { cause });
}

/**
 * Micro-batching: every job added during one turn of the event loop goes to
 * Redis in one pipeline (one write, one round trip), so under concurrent POSTs
 * the amortised cost is a fraction of a round trip per submission. Each job is
 * still its own BullMQ add script with jobId = submissionId, and each caller
 * learns its own job's fate from its own reply in the pipeline: a job that was
 * not added fails only its own POST, which removes only its own row.
 *
 * Like enqueueSubmission, it waits for the connection to be ready before
 * writing anything (waiting issues no command), so a request that times out
 * there leaves no job behind.
 */
export function createEnqueueBatcher(queue: Queue, options: EnqueueBatcherOptions = {}): SubmissionEnqueuer {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  let pending: Pending[] = [];
  let scheduled = false;

  const send = async (batch: Pending[]): Promise<void> => {
    try {
      await withTimeout(queue.waitUntilReady(), timeoutMs, "queue connection not ready");
    } catch (error) {
      for (const item of batch) item.reject(unavailable(error));
      return;
    }
    const client = await queue.client;
    const pipeline = client.pipeline();
    const queued: Pending[] = [];
    const defaults = queue.defaultJobOptions;
    for (const item of batch) {
      try {
        // Queues the add script on the pipeline synchronously; its own promise carries nothing we need.
        new Job(queue, SUBMISSION_JOB, item.payload, { ...defaults, ...item.opts }, item.payload.submissionId).addJob(pipeline).catch(() => undefined);
        queued.push(item);
      } catch (error) {
        item.reject(unavailable(error));
      }
    }
    if (queued.length === 0) return;
    let replies: Array<[Error | null, unknown]> | null;
    try {
      // withTimeout keeps a late failure of a timed-out pipeline from becoming an unhandled rejection.
      replies = await withTimeout(pipeline.exec(), timeoutMs, "enqueue timed out");
    } catch (error) {
      for (const item of queued) item.reject(unavailable(error));
      return;
    }
    queued.forEach((item, index) => {
      const [error, reply] = replies?.[index] ?? [new Error("no reply for this job"), null];
      // BullMQ's add scripts answer a negative number for a refused add.
      if (error || (typeof reply === "number" && reply < 0)) item.reject(unavailable(error ?? new Error(`add refused (${String(reply)})`)));
      else item.resolve();
    });
  };

  const flush = () => {
    scheduled = false;
    const ready = pending;
    pending = [];
    for (let start = 0; start < ready.length; start += maxBatch) {
      const batch = ready.slice(start, start + maxBatch);
      // Settling a promise twice is a no-op: this only reaches callers send() has not answered.
      send(batch).catch((error: unknown) => {
        for (const item of batch) item.reject(unavailable(error));
      });
    }
  };

  return {
    enqueue(job, enqueueOptions = {}) {
      const payload = submissionJobSchema.parse(job);
      const opts: JobsOptions = enqueueOptions.priority === undefined ? { jobId: payload.submissionId } : { jobId: payload.submissionId, priority: enqueueOptions.priority };
      return new Promise<void>((resolve, reject) => {
        pending.push({ payload, opts, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // setImmediate, not a microtask: requests parsed in the same I/O phase join one pipeline.
          setImmediate(flush);
        }
      });
    },
  };
}
