import { SOCKET_EVENTS, type Run } from "@sonocode/contracts";
import type { Redis } from "ioredis";
import { appendUserEvent } from "./user-events.js";

/** The final event of a run (run:result) to every tab of its owner: the body GET /api/v1/runs/:id returns. */
export interface RunNotifier {
  final(run: Run): Promise<void>;
}

/**
 * Through the user-events stream, like submission events (user-events.ts): the database is the
 * truth and a client that missed the event re-reads GET /api/v1/runs/:id. Runs have no progress
 * events, so no ordering gate is needed; a replayed result appends again (clients dedupe by run id).
 */
export function createRunNotifier(redis: Redis, prefix: string): RunNotifier {
  return {
    async final(run) {
      // For the stored owner, never for a user named by a job payload.
      await appendUserEvent(redis, prefix, run.userId, SOCKET_EVENTS.runResult, run, { mode: "plain" });
    },
  };
}
