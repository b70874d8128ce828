import { SOCKET_EVENTS, socketIoKey, userRoom, type ServerToClientEvents, type Submission } from "@sonocode/contracts";
import { Emitter } from "@socket.io/redis-emitter";
import type { Redis } from "ioredis";

/**
 * Socket notifications for a user's tabs, through the Socket.IO Redis adapter's
 * channel. Best effort: the database is the truth and a client re-reads
 * GET /api/v1/submissions/:id on reconnect.
 *
 * The final event is at-least-once: it is published after the database write,
 * and a replayed result (a consumer that died between the write and the emit)
 * publishes it again unless a short-lived mark says it already went out. A
 * duplicate is therefore possible only when a process dies between the publish
 * and the mark; clients dedupe by submission id.
 */
export interface SubmissionNotifier {
  progress(submission: Submission): Promise<void>;
  /** Publishes the final event; on a replay, only when no earlier publish was recorded. */
  final(submission: Submission, options: { replay: boolean }): Promise<"emitted" | "already-emitted">;
}

/** How long "the final event went out" is remembered: replays come within minutes of the write. */
const FINAL_MARK_TTL_SECONDS = 3_600;

/**
 * Progress never after the final event. Progress and results are consumed concurrently (slots,
 * replicas), so a progress event whose database write came just before the final one could be
 * emitted just after it. The final path sets a gate key right before its publish; a progress
 * publish runs as one Lua script that publishes only while that key is absent. Redis runs both in
 * one order, so a progress publish is either ahead of the final one on the adapter's channel (and
 * so at every socket-service instance) or never happens. The gate outlives any progress write in
 * flight by far. A rejudge is a new generation with keys of its own (see generationKey), so the
 * first judging's gate and mark neither silence nor stand in for the rejudge's events.
 */
const FINAL_GATE_TTL_SECONDS = 600;
const GATED_PUBLISH = "if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end return redis.call('PUBLISH', ARGV[1], ARGV[2])";

/** Per judging: the id alone for the first one (as before rejudges existed), id:generation after. */
function generationKey(submission: Pick<Submission, "_id" | "rejudgeGeneration">): string {
  const generation = submission.rejudgeGeneration ?? 0;
  return generation === 0 ? submission._id : `${submission._id}:${generation}`;
}

export function createSubmissionNotifier(redis: Redis, prefix: string): SubmissionNotifier {
  const key = socketIoKey(prefix);
  const markKey = (submission: Submission) => `${prefix}:notified:${generationKey(submission)}`;
  const gateKey = (submission: Submission) => `${prefix}:final-gate:${generationKey(submission)}`;

  /** The adapter's channel and encoded message(s) for one event to a user's room, not yet published. */
  function encodeForUser<E extends keyof ServerToClientEvents>(userId: string, event: E, payload: Parameters<ServerToClientEvents[E]>[0]): Array<[channel: string, message: Buffer | string]> {
    // The emitter only encodes and hands the message to publish(), synchronously: collected here,
    // so the caller decides how it goes out (gated, or in one transaction with the final marks).
    const messages: Array<[string, Buffer | string]> = [];
    const client = {
      publish: (channel: string, message: Buffer | string) => {
        messages.push([channel, message]);
        return Promise.resolve(0);
      },
    };
    const emitter = new Emitter<ServerToClientEvents>(client, { key });
    // The typed broadcaster needs the concrete event; the payload type follows from it.
    (emitter.to(userRoom(userId)).emit as (ev: string, data: unknown) => boolean)(event, payload);
    return messages;
  }

  /** Publishes one event to a user's room with `publish` and waits for Redis to accept it. */
  async function emitToUser<E extends keyof ServerToClientEvents>(
    userId: string,
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
    publish: (channel: string, message: Buffer | string) => Promise<unknown>,
  ): Promise<void> {
    await Promise.all(encodeForUser(userId, event, payload).map(([channel, message]) => publish(channel, message)));
  }

  return {
    async progress(submission) {
      const gate = gateKey(submission);
      await emitToUser(
        submission.userId,
        SOCKET_EVENTS.progress,
        { submissionId: submission._id, status: "Running", passed: submission.passed, total: submission.total },
        (channel, message) => redis.eval(GATED_PUBLISH, 1, gate, channel, message),
      );
    },
    async final(submission, { replay }) {
      if (replay && (await redis.exists(markKey(submission))) === 1) return "already-emitted";
      // One round trip, one transaction, in this order: the gate closes (from here on no progress
      // event of this submission goes out), the event is published to the stored owner (the
      // database is the truth, not a job payload), and the mark records that it went out. Redis
      // runs a progress publish's script wholly before or wholly after it, and the mark is never
      // set without the publish.
      const transaction = redis.multi().set(gateKey(submission), "1", "EX", FINAL_GATE_TTL_SECONDS);
      for (const [channel, message] of encodeForUser(submission.userId, SOCKET_EVENTS.result, submission)) transaction.publish(channel, message);
      transaction.set(markKey(submission), "1", "EX", FINAL_MARK_TTL_SECONDS);
      const replies = await transaction.exec();
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (!replies || failed) throw failed ?? new Error("the final event's transaction was discarded");
      return "emitted";
    },
  };
}
