import {
  EVALUATION_JOBS,
  QUEUES,
  SOCKET_EVENTS,
  evaluationResultSchema,
  progressEventSchema,
  socketIoKey,
  userRoom,
  type ServerToClientEvents,
} from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import type { Store } from "@sonocode/store";
import { Emitter } from "@socket.io/redis-emitter";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import type { z } from "zod";

export interface ResultConsumerDeps {
  store: Store;
  redisUrl: string;
  /** REDIS_PREFIX: BullMQ key prefix and the Socket.IO adapter key `${prefix}:socket.io`. */
  prefix: string;
  logger: Logger;
  concurrency?: number;
}

export interface ResultConsumerHandle {
  worker: Worker;
  close(): Promise<void>;
}

export const DEFAULT_RESULT_CONCURRENCY = 8;

function parsePayload<S extends z.ZodType>(schema: S, job: Job): z.output<S> {
  const parsed = schema.safeParse(job.data);
  // A malformed payload will be just as malformed on the next attempt.
  if (!parsed.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/**
 * Consumes EvaluationQueue: writes progress and final verdicts to the database
 * (the truth) and then notifies the user's sockets through the Redis adapter.
 * The write is idempotent (finalize never regresses a final state), so BullMQ's
 * at-least-once delivery is safe; notifications are best-effort, since a client
 * that missed one re-reads GET /api/v1/submissions/:id.
 */
export function createResultConsumer(deps: ResultConsumerDeps): ResultConsumerHandle {
  const log = deps.logger.child({ component: "results-consumer" });
  const publisher = new Redis(deps.redisUrl, { maxRetriesPerRequest: 2, commandTimeout: 5_000 });
  publisher.on("error", (error) => log.warn({ err: error }, "socket emitter redis error"));
  const key = socketIoKey(deps.prefix);

  /** Publishes one event to a user's room and waits for Redis to accept it. */
  async function emitToUser<E extends keyof ServerToClientEvents>(
    userId: string,
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
  ): Promise<void> {
    // The emitter fires publish() and drops the promise; this shim keeps it so a
    // failed publish is logged here instead of surfacing as an unhandled rejection.
    const published: Promise<unknown>[] = [];
    const client = {
      publish: (channel: string, message: Buffer | string) => {
        const sent = publisher.publish(channel, message);
        published.push(sent);
        return sent;
      },
    };
    const emitter = new Emitter<ServerToClientEvents>(client, { key });
    // The typed broadcaster needs the concrete event; the payload type follows from it.
    (emitter.to(userRoom(userId)).emit as (ev: string, data: unknown) => boolean)(event, payload);
    await Promise.all(published);
  }

  async function process(job: Job): Promise<string> {
    const jobLog = log.child({ jobId: job.id, jobName: job.name });
    switch (job.name) {
      case EVALUATION_JOBS.progress: {
        const event = parsePayload(progressEventSchema, job);
        const eventLog = jobLog.child({ submissionId: event.submissionId });
        const updated = await deps.store.submissions.markRunning(event.submissionId, { passed: event.passed, total: event.total });
        if (!updated) {
          // Absent, or already final: a late progress event must not move a verdict back.
          eventLog.debug("progress ignored: submission absent or already final");
          return "ignored";
        }
        await emitToUser(updated.userId, SOCKET_EVENTS.progress, {
          submissionId: updated._id,
          status: "Running",
          passed: updated.passed,
          total: updated.total,
        }).catch((error: unknown) => eventLog.warn({ err: error }, "progress notification failed"));
        return "running";
      }
      case EVALUATION_JOBS.result: {
        const result = parsePayload(evaluationResultSchema, job);
        const resultLog = jobLog.child({ submissionId: result.submissionId });
        const { submissionId, userId: _userId, ...verdict } = result;
        const outcome = await deps.store.submissions.finalize(submissionId, verdict);
        if (!outcome) {
          // Retrying cannot make the submission appear (e.g. its enqueue was rolled back): drop it.
          resultLog.warn("result dropped: unknown submission");
          return "dropped";
        }
        if (!outcome.applied) {
          resultLog.info({ status: outcome.submission.status }, "replayed result ignored: submission already final");
          return "replayed";
        }
        resultLog.info({ status: outcome.submission.status, passed: outcome.submission.passed, total: outcome.submission.total }, "submission finalized");
        // Emitted to the stored owner, not the payload's userId: the database is the truth.
        await emitToUser(outcome.submission.userId, SOCKET_EVENTS.result, outcome.submission).catch((error: unknown) =>
          resultLog.warn({ err: error }, "result notification failed; the client will re-read the submission"),
        );
        return "finalized";
      }
      default:
        throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} on ${QUEUES.evaluation}`);
    }
  }

  const connection = new Redis(deps.redisUrl, { maxRetriesPerRequest: null });
  connection.on("error", (error) => log.warn({ err: error }, "results consumer redis error"));
  const worker = new Worker(QUEUES.evaluation, process, {
    connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency ?? DEFAULT_RESULT_CONCURRENCY,
  });
  worker.on("error", (error) => log.error({ err: error }, "results consumer error"));
  worker.on("failed", (job, error) =>
    log.warn({ err: error, jobId: job?.id, jobName: job?.name, attemptsMade: job?.attemptsMade }, "evaluation job failed"),
  );

  return {
    worker,
    async close() {
      // Finish the jobs in hand (their database writes matter), then drop the connections.
      await worker.close().catch((error: unknown) => log.warn({ err: error }, "results consumer close failed"));
      connection.disconnect();
      await publisher.quit().catch(() => publisher.disconnect());
    },
  };
}
