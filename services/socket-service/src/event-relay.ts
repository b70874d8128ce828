import { userEventEntrySchema, userEventsStreamKey, userRoom } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import { connectRedis } from "@sonocode/redis";
import type { Redis } from "ioredis";
import type { SonoSocketServer } from "./server.js";

/**
 * Reads the user-events stream (contracts: userEventsStreamKey) and delivers each entry to the
 * user's tabs connected to this instance (every instance reads every entry; io.local keeps the
 * adapter out of it). It resumes from the last entry it delivered: when Redis restarts (with
 * its AOF) or this instance's connection drops, what was appended meanwhile is delivered once it
 * is back, in order, once. A new instance starts at the stream's end: its clients connected
 * after those events and read the state over HTTP.
 */
export interface EventRelay {
  close(): Promise<void>;
}

/** One blocking read waits this long at most, so close() and reconnects are noticed. */
const BLOCK_MS = 5_000;
const BATCH = 512;

type StreamReply = Array<[key: string, entries: Array<[id: string, fields: string[]]>]> | null;

/** Stream ids "<ms>-<seq>", compared as numbers. */
function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split("-").map((part) => BigInt(part));
  const [bm = 0n, bs = 0n] = b.split("-").map((part) => BigInt(part));
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** XINFO STREAM's ids, or null when the stream does not exist. */
async function streamInfo(redis: Redis, key: string): Promise<{ lastGeneratedId: string; maxDeletedId: string } | null> {
  let reply: unknown[];
  try {
    reply = (await redis.xinfo("STREAM", key)) as unknown[];
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return null;
    throw error;
  }
  const field = (name: string) => {
    const at = reply.indexOf(name);
    return at >= 0 && typeof reply[at + 1] === "string" ? (reply[at + 1] as string) : "0-0";
  };
  return { lastGeneratedId: field("last-generated-id"), maxDeletedId: field("max-deleted-entry-id") };
}

export async function startEventRelay(io: SonoSocketServer, deps: { redisUrl: string; prefix: string; logger: Logger }): Promise<EventRelay> {
  const { logger } = deps;
  const key = userEventsStreamKey(deps.prefix);
  // A connection of its own: a blocking read must not hold up the adapter's commands.
  const redis: Redis = await connectRedis(deps.redisUrl, "socket-events-reader", logger, { maxRetriesPerRequest: null });
  const [last] = (await redis.xrevrange(key, "+", "-", "COUNT", 1)) as Array<[string, string[]]>;
  let lastId = last?.[0] ?? "0-0";
  let closed = false;
  let lastWarned = 0;
  // disconnect() leaves a command queued while ioredis reconnects unanswered: close() must not wait for it.
  let stop!: () => void;
  const stopped = new Promise<null>((resolve) => (stop = () => resolve(null)));

  // After a reconnect: did entries this instance never read go away (trimmed while it was cut
  // off, or Redis restarted without them)? Then its tabs may have missed events: their
  // transports are closed, the clients reconnect at once and re-read over HTTP (as after any
  // reconnect). Checked from the last entry delivered before the connection dropped: entries
  // appended after a restart may be delivered (and lastId moved) before the check runs.
  let checkFrom: string | null = null;
  redis.on("close", () => {
    if (!closed && checkFrom === null) checkFrom = lastId;
  });

  async function checkForGap(from: string): Promise<void> {
    if (from === "0-0") return;
    const info = await streamInfo(redis, key);
    let gap: string | null = null;
    if (!info) {
      gap = "the stream is gone (Redis restarted without it)";
    } else if (compareIds(info.lastGeneratedId, lastId) < 0) {
      // Redis restarted from older data (or its clock is behind): new ids would sit below lastId.
      gap = "the stream is behind this instance";
      lastId = info.lastGeneratedId;
    } else if (compareIds(info.maxDeletedId, from) > 0) {
      gap = "entries this instance had not read were trimmed";
    } else if (((await redis.xrange(key, from, from)) as unknown[]).length === 0 && compareIds(info.maxDeletedId, from) < 0) {
      // Neither there nor trimmed: the stream was made again after a restart that lost it.
      gap = "the stream lost entries (Redis restarted without them)";
    }
    if (gap) {
      logger.warn({ reason: gap }, "user-events may have been missed: closing this instance's sockets so their clients re-read");
      // The transport only, not a Socket.IO disconnect (after which a client stays away): the
      // clients see "transport close" and reconnect by themselves, then re-read.
      for (const socket of io.sockets.sockets.values()) socket.conn.close();
    }
  }

  function deliver(id: string, fields: string[]): void {
    const record: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
    const entry = userEventEntrySchema.safeParse(record);
    let payload: unknown;
    try {
      payload = entry.success ? JSON.parse(entry.data.data) : undefined;
    } catch {
      payload = undefined;
    }
    if (!entry.success || payload === undefined) {
      logger.warn({ entryId: id }, "user-events entry is malformed; skipped");
      return;
    }
    // The payload was built from the database by the submission-service, typed by its event there.
    (io.local.to(userRoom(entry.data.user)).emit as (event: string, data: unknown) => boolean)(entry.data.event, payload);
  }

  const loop = (async () => {
    while (!closed) {
      try {
        const read = redis.xread("COUNT", BATCH, "BLOCK", BLOCK_MS, "STREAMS", key, lastId) as Promise<StreamReply>;
        read.catch(() => undefined);
        const reply = await Promise.race([read, stopped]);
        if (closed) return;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            // Past it first: an entry that cannot be delivered is skipped, never retried forever.
            lastId = id;
            try {
              deliver(id, fields);
            } catch (error) {
              logger.warn({ entryId: id, err: { message: error instanceof Error ? error.message : String(error) } }, "user-events entry not delivered");
            }
          }
        }
        if (checkFrom !== null && redis.status === "ready") {
          await checkForGap(checkFrom);
          checkFrom = null;
        }
      } catch (error) {
        if (closed) return;
        // Redis away: ioredis reconnects; read again from the same id once it is back.
        if (Date.now() - lastWarned > 5_000) {
          lastWarned = Date.now();
          logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, "user-events read failed; retrying");
        }
        await Promise.race([new Promise((resolve) => setTimeout(resolve, 250)), stopped]);
      }
    }
  })();

  return {
    async close() {
      closed = true;
      stop();
      // A blocking read would hold QUIT for up to BLOCK_MS: cut the connection instead.
      redis.disconnect();
      await loop;
    },
  };
}
