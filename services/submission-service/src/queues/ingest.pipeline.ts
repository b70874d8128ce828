import { SUBMISSION_JOB, type SubmissionJob } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { Job, type JobsOptions, type Queue } from "bullmq";
import { DEFAULT_ENQUEUE_TIMEOUT_MS, withTimeout, type EnqueueOptions } from "./submission.queue.js";

/** Everything the POST path asks of Redis. */
export interface IngestPipeline {
  /** Resolves once the job is in Redis; QUEUE_UNAVAILABLE otherwise (the caller then removes its row). */
  enqueue(job: SubmissionJob, options?: EnqueueOptions): Promise<void>;
  /** Counts one submission in a fixed window: the count so far (this one included) and the window's ms left. */
  countInWindow(key: string, windowMs: number): Promise<{ current: number; ttl: number }>;
}

export interface IngestPipelineOptions {
  timeoutMs?: number | undefined;
  /** Commands per pipeline; a burst beyond this is split over several. */
  maxBatch?: number;
}

type Command =
  | { kind: "add"; payload: SubmissionJob; opts: JobsOptions; resolve: () => void; reject: (error: unknown) => void }
  | { kind: "count"; key: string; windowMs: number; resolve: (value: { current: number; ttl: number }) => void; reject: (error: unknown) => void };

const DEFAULT_MAX_BATCH = 256;

/**
 * A fixed window per key: the first hit starts the window's expiry, every hit
 * returns the count and what is left of the window. A key found without an
 * expiry (it cannot happen inside one script, but a key is cheap to repair) gets one.
 */
const COUNT_IN_WINDOW_LUA = `
local current = redis.call("INCR", KEYS[1])
if current == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
local ttl = redis.call("PTTL", KEYS[1])
if ttl < 0 then
  redis.call("PEXPIRE", KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { current, ttl }`;
const COUNT_COMMAND = "sonocodeCountInWindow";

type RedisPipeline = ReturnType<Awaited<Queue["client"]>["pipeline"]>;
/** Connections the count script has been defined on (BullMQ's client adapter, then runCommand by name). */
const defined = new WeakSet<object>();

function unavailable(cause: unknown): AppError {
  return new AppError("QUEUE_UNAVAILABLE", "submission queue is unavailable; try again shortly", { cause });
}

/**
 * Micro-batching on the producer connection: every command the POST path
 * issues during one turn of the event loop (rate-limit counts of requests just
 * arrived, job adds of requests just inserted) goes to Redis in one pipeline:
 * one write, one round trip for the whole turn, so under concurrent POSTs each
 * costs a fraction of a round trip. Each command keeps its own reply: a job
 * BullMQ refuses fails only its own POST (which removes only its own row), and
 * every add is still BullMQ's own script with jobId = submissionId.
 *
 * Like enqueueSubmission, nothing is written before the connection is ready
 * (waiting issues no command), so a request that times out there leaves no job.
 */
export function createIngestPipeline(queue: Queue, options: IngestPipelineOptions = {}): IngestPipeline {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  let pending: Command[] = [];
  let scheduled = false;

  const queueCommand = (pipeline: RedisPipeline, command: Command, defaults: JobsOptions): void => {
    if (command.kind === "count") {
      pipeline.runCommand(COUNT_COMMAND, [command.key, command.windowMs]);
      return;
    }
    // Queues BullMQ's add script on the pipeline synchronously; its own promise carries nothing we need.
    new Job(queue, SUBMISSION_JOB, command.payload, { ...defaults, ...command.opts }, command.payload.submissionId).addJob(pipeline).catch(() => undefined);
  };

  const settle = (command: Command, error: Error | null, reply: unknown): void => {
    if (command.kind === "count") {
      const pair = Array.isArray(reply) ? reply : [];
      if (error || typeof pair[0] !== "number" || typeof pair[1] !== "number") command.reject(error ?? new Error("unexpected rate-limit reply"));
      else command.resolve({ current: pair[0], ttl: pair[1] });
      return;
    }
    // BullMQ's add scripts answer a negative number for a refused add.
    if (error || (typeof reply === "number" && reply < 0)) command.reject(unavailable(error ?? new Error(`add refused (${String(reply)})`)));
    else command.resolve();
  };

  const fail = (command: Command, error: unknown): void => command.reject(command.kind === "add" ? unavailable(error) : error);

  const send = async (batch: Command[]): Promise<void> => {
    try {
      await withTimeout(queue.waitUntilReady(), timeoutMs, "queue connection not ready");
    } catch (error) {
      for (const command of batch) fail(command, error);
      return;
    }
    const client = await queue.client;
    if (!defined.has(client)) {
      client.defineCommand(COUNT_COMMAND, { numberOfKeys: 1, lua: COUNT_IN_WINDOW_LUA });
      defined.add(client);
    }
    const pipeline = client.pipeline();
    const defaults = queue.defaultJobOptions;
    const queued: Command[] = [];
    for (const command of batch) {
      try {
        queueCommand(pipeline, command, defaults);
        queued.push(command);
      } catch (error) {
        fail(command, error);
      }
    }
    if (queued.length === 0) return;
    let replies: Array<[Error | null, unknown]> | null;
    try {
      // withTimeout keeps a late failure of a timed-out pipeline from becoming an unhandled rejection.
      replies = await withTimeout(pipeline.exec(), timeoutMs, "redis pipeline timed out");
    } catch (error) {
      for (const command of queued) fail(command, error);
      return;
    }
    queued.forEach((command, index) => {
      const [error, reply] = replies?.[index] ?? [new Error("no reply for this command"), null];
      settle(command, error, reply);
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
        for (const command of batch) fail(command, error);
      });
    }
  };

  const submit = (command: Command) => {
    pending.push(command);
    if (!scheduled) {
      scheduled = true;
      // setImmediate, not a microtask: the requests handled in the same I/O phase share one pipeline.
      setImmediate(flush);
    }
  };

  return {
    enqueue(job, enqueueOptions = {}) {
      // Not re-parsed here: the POST path builds the job (buildSubmissionJob) from a
      // submission the store just validated and a problem parsed when it was loaded,
      // and the evaluator, its consumer, parses it again on receipt. Parsing it here
      // too cost a few percent of the POST path's CPU (issue 9).
      const payload = job;
      const opts: JobsOptions = enqueueOptions.priority === undefined ? { jobId: payload.submissionId } : { jobId: payload.submissionId, priority: enqueueOptions.priority };
      return new Promise<void>((resolve, reject) => submit({ kind: "add", payload, opts, resolve, reject }));
    },
    countInWindow(key, windowMs) {
      return new Promise((resolve, reject) => submit({ kind: "count", key, windowMs, resolve, reject }));
    },
  };
}
