import { z } from "zod";
import { objectIdSchema } from "./common.js";
import { submissionSchema } from "./submission.js";
import type { RunResultEvent } from "./runs.js";

/** Socket.IO event names sent to clients. Do not rename (submissionPayloadResponse is the original system's name). */
export const SOCKET_EVENTS = {
  result: "submissionPayloadResponse",
  progress: "submission:progress",
  /** The final state of a run (POST /api/v1/runs) without its texts (runResultEventSchema); GET /api/v1/runs/:id has them. */
  runResult: "run:result",
} as const;

/** The Redis key (channel prefix) of socket-service's Socket.IO adapter (its instances talk through it). */
export function socketIoKey(prefix: string): string {
  return `${prefix}:socket.io`;
}

/**
 * The Redis stream every event for users goes through, submission-service -> socket-service
 * (not the adapter's pub/sub channel, where a message published while a socket-service is
 * reconnecting to Redis is gone). Each socket-service instance reads it from the last entry it
 * delivered, so an outage or restart of Redis (with AOF) or a dropped connection only delays
 * events; the stream keeps the last USER_EVENTS_RETENTION_MS (at most USER_EVENTS_MAX_ENTRIES).
 */
export function userEventsStreamKey(prefix: string): string {
  return `${prefix}:user-events`;
}
export const USER_EVENTS_RETENTION_MS = 10 * 60_000;
/**
 * Entries carry final submissions without their code and final runs without their texts (a few
 * KB each with the per-test results); the cap bounds Redis memory whatever their size.
 */
export const USER_EVENTS_MAX_ENTRIES = 5_000;

const userEventNames = [SOCKET_EVENTS.result, SOCKET_EVENTS.progress, SOCKET_EVENTS.runResult] as const;
/** One stream entry's fields: the user whose tabs get it, the event, its payload as JSON text. */
export const userEventEntrySchema = z.object({
  user: z.string().min(1).max(200),
  event: z.enum(userEventNames),
  data: z.string(),
});
export type UserEventEntry = z.infer<typeof userEventEntrySchema>;

/** Every tab of one user joins this room; results are emitted to it, never to a stored socket id. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}

/**
 * The final event of a submission: the stored submission (GET /api/v1/submissions/:id) without
 * `code` (the submitter has it; a tab that wants it reads the submission) and without the
 * per-read `percentile`. Leaving the code out keeps each stream entry a few KB instead of up to
 * the code cap escaped as JSON (64 KiB of code: ~66-82 KB typical, ~384 KB at worst).
 */
export const socketResultPayloadSchema = submissionSchema.omit({ code: true, percentile: true }).strict();
export type SocketResultPayload = z.infer<typeof socketResultPayloadSchema>;
export const socketProgressPayloadSchema = z.object({
  submissionId: objectIdSchema,
  status: z.literal("Running"),
  passed: z.number().int().min(0),
  total: z.number().int().min(0),
});
export type SocketProgressPayload = z.infer<typeof socketProgressPayloadSchema>;

/** Typed event maps for socket.io's generics. */
export interface ServerToClientEvents {
  submissionPayloadResponse: (payload: SocketResultPayload) => void;
  "submission:progress": (payload: SocketProgressPayload) => void;
  "run:result": (payload: RunResultEvent) => void;
}
// Clients send nothing the server acts on: identity comes from the handshake token only.
export type ClientToServerEvents = Record<string, never>;
