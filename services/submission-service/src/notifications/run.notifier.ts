import { SOCKET_EVENTS, socketIoKey, userRoom, type Run, type ServerToClientEvents } from "@sonocode/contracts";
import { Emitter } from "@socket.io/redis-emitter";
import type { Redis } from "ioredis";

/** The final event of a run (run:result) to every tab of its owner: the body GET /api/v1/runs/:id returns. */
export interface RunNotifier {
  final(run: Run): Promise<void>;
}

/**
 * Best effort, like submission events: the database is the truth and a client that missed the
 * event re-reads GET /api/v1/runs/:id. Runs have no progress events, so no ordering gate is needed;
 * a replayed result re-emits (clients dedupe by run id).
 */
export function createRunNotifier(redis: Redis, prefix: string): RunNotifier {
  const key = socketIoKey(prefix);
  return {
    async final(run) {
      // The emitter drops publish()'s promise; this shim keeps it so a failed publish rejects here.
      const published: Promise<unknown>[] = [];
      const client = {
        publish: (channel: string, message: Buffer | string) => {
          const sent = redis.publish(channel, message);
          published.push(sent);
          return sent;
        },
      };
      const emitter = new Emitter<ServerToClientEvents>(client, { key });
      // Emitted to the stored owner, never to a user named by a job payload.
      emitter.to(userRoom(run.userId)).emit(SOCKET_EVENTS.runResult, run);
      await Promise.all(published);
    },
  };
}
