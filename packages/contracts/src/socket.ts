import { z } from "zod";
import { objectIdSchema } from "./common.js";
import { submissionSchema } from "./submission.js";
import type { Run } from "./runs.js";

/** Socket.IO event names sent to clients. Do not rename (submissionPayloadResponse is the original system's name). */
export const SOCKET_EVENTS = {
  result: "submissionPayloadResponse",
  progress: "submission:progress",
  /** The final state of a run (POST /api/v1/runs): the same body as GET /api/v1/runs/:id. */
  runResult: "run:result",
} as const;

/**
 * The Redis key (channel prefix) of the Socket.IO adapter. socket-service builds its
 * adapter and submission-service its emitter with this one function: if the two ever
 * differed, results would go to a channel nobody listens on.
 */
export function socketIoKey(prefix: string): string {
  return `${prefix}:socket.io`;
}

/** Every tab of one user joins this room; results are emitted to it, never to a stored socket id. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}

export const socketResultPayloadSchema = submissionSchema;
export const socketProgressPayloadSchema = z.object({
  submissionId: objectIdSchema,
  status: z.literal("Running"),
  passed: z.number().int().min(0),
  total: z.number().int().min(0),
});
export type SocketProgressPayload = z.infer<typeof socketProgressPayloadSchema>;

/** Typed event maps for socket.io's generics. */
export interface ServerToClientEvents {
  submissionPayloadResponse: (payload: z.infer<typeof socketResultPayloadSchema>) => void;
  "submission:progress": (payload: SocketProgressPayload) => void;
  "run:result": (payload: Run) => void;
}
// Clients send nothing the server acts on: identity comes from the handshake token only.
export type ClientToServerEvents = Record<string, never>;
