import { SOCKET_EVENTS, type SocketResultPayload, type Submission } from "@sonocode/contracts";
import type { Redis } from "ioredis";
import { appendUserEvent } from "./user-events.js";

/**
 * Socket notifications for a user's tabs, through the user-events stream (user-events.ts)
 * that every socket-service instance reads. The database is the truth and a client re-reads
 * GET /api/v1/submissions/:id when its socket reconnects; the stream makes sure a socket that
 * stayed connected gets its events even when Redis, or its socket-service's link to Redis,
 * went away for a while.
 *
 * The final event is at-least-once: it is appended after the database write, and a replayed
 * result (a consumer that died between the write and the append) appends it again unless a
 * short-lived mark says it already went out (checked inside the append script by every append,
 * so two at once add one). A duplicate is therefore possible only when the mark is gone (its TTL,
 * or Redis lost it); clients dedupe by submission id and generation.
 */
/** What a progress event is built from: markRunning's answer (the store's SubmissionProgress) or a whole submission. */
export type ProgressSource = Pick<Submission, "_id" | "userId" | "status" | "passed" | "total" | "rejudgeGeneration">;

export interface SubmissionNotifier {
  progress(submission: ProgressSource): Promise<void>;
  /**
   * Appends the final event unless an earlier append of it was recorded (the mark, checked in
   * the same script, first appends included); `replay` only says, for the logs, whether this
   * comes from a replayed result.
   */
  final(submission: Submission, options: { replay: boolean }): Promise<"emitted" | "already-emitted">;
}

/** How long "the final event went out" is remembered: replays come within minutes of the write. */
const FINAL_MARK_TTL_SECONDS = 3_600;

/**
 * Progress never after the final event. Progress and results are consumed concurrently (slots,
 * replicas), so a progress event whose database write came just before the final one could be
 * appended just after it. The final path closes a gate key as it appends; a progress append
 * (the same script) only happens while that key is absent. Redis runs the scripts one at a time,
 * so a progress event is either ahead of the final one in the stream (and so at every
 * socket-service instance, which delivers in stream order) or never appended. The gate outlives
 * any progress write in flight by far. A rejudge is a new generation with keys of its own (see
 * generationKey), so the first judging's gate and mark neither silence nor stand in for the
 * rejudge's events.
 */
const FINAL_GATE_TTL_SECONDS = 600;

/** Per judging: the id alone for the first one (as before rejudges existed), id:generation after. */
function generationKey(submission: Pick<Submission, "_id" | "rejudgeGeneration">): string {
  const generation = submission.rejudgeGeneration ?? 0;
  return generation === 0 ? submission._id : `${submission._id}:${generation}`;
}

/** The final event's payload: the stored submission without its code (contracts: socketResultPayloadSchema). */
export function finalEventPayload(submission: Submission): SocketResultPayload {
  const { code: _code, percentile: _percentile, ...payload } = submission;
  return payload;
}

export function createSubmissionNotifier(redis: Redis, prefix: string): SubmissionNotifier {
  const markKey = (submission: Submission) => `${prefix}:notified:${generationKey(submission)}`;
  const gateKey = (submission: Pick<Submission, "_id" | "rejudgeGeneration">) => `${prefix}:final-gate:${generationKey(submission)}`;

  return {
    async progress(submission) {
      await appendUserEvent(
        redis,
        prefix,
        submission.userId,
        SOCKET_EVENTS.progress,
        { submissionId: submission._id, status: "Running", passed: submission.passed, total: submission.total },
        { mode: "progress", gateKey: gateKey(submission) },
      );
    },
    async final(submission) {
      // One script, in this order: nothing if the mark is there (checked in the script, so two
      // appends of one final at once, a replay and its finalizer's included, add one), the gate
      // closes (from here on no progress event of this submission is appended), the event is
      // appended for the stored owner (the database is the truth, not a job payload), without
      // its code, and the mark records that it went out.
      const id = await appendUserEvent(redis, prefix, submission.userId, SOCKET_EVENTS.result, finalEventPayload(submission), {
        mode: "final",
        gateKey: gateKey(submission),
        gateTtlSeconds: FINAL_GATE_TTL_SECONDS,
        markKey: markKey(submission),
        markTtlSeconds: FINAL_MARK_TTL_SECONDS,
      });
      return id === null ? "already-emitted" : "emitted";
    },
  };
}
