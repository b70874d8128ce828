import { USER_EVENTS_MAX_ENTRIES, USER_EVENTS_RETENTION_MS, userEventsStreamKey, type ServerToClientEvents, type UserEventEntry } from "@sonocode/contracts";
import { luaScript, runLuaScript } from "@sonocode/redis";
import type { Redis } from "ioredis";

/**
 * Appends events for a user's tabs to the user-events stream (contracts: userEventsStreamKey),
 * which every socket-service instance reads from the last entry it delivered: an event written
 * while a socket-service is away from Redis is delivered when it is back, not dropped as a
 * pub/sub message would be.
 *
 * One script, so that each append is one round trip and atomic with its gate and mark:
 *   - "progress": appended only while the submission's final gate is absent (a progress write
 *     that races the final one is either ahead of it in the stream or never appended);
 *   - "final": closes the gate, appends, and records that the final event went out (the mark a
 *     replayed result checks), in that order;
 *   - "marked": appends and records that it went out (run results: no progress, so no gate);
 *   - "plain": appends.
 * A "final" or "marked" append adds nothing when the mark is already there: a judging (a run)
 * has one final state, so its mark means that state went out. The check is in the script, not
 * a separate EXISTS before it, and is made by first appends too: two replays of one final at
 * once (an owed retry and a results-consumer replay of a late result, two replicas'
 * reconcilers), or a replay that reads the committed row and appends before the finalizer's
 * own append, would otherwise both append.
 * Retention: entries older than the window are trimmed by the append itself, by Redis's clock
 * (the ids are Redis's time), and never more than USER_EVENTS_MAX_ENTRIES are kept.
 */
const APPEND = luaScript(`
if ARGV[1] == 'progress' and redis.call('EXISTS', KEYS[2]) == 1 then return false end
if (ARGV[1] == 'final' or ARGV[1] == 'marked') and redis.call('EXISTS', KEYS[3]) == 1 then return false end
if redis.replicate_commands then redis.replicate_commands() end
if ARGV[1] == 'final' then redis.call('SET', KEYS[2], '1', 'EX', ARGV[7]) end
local now = redis.call('TIME')
local minid = string.format('%.0f', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[5]))
local id = redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', 'user', ARGV[2], 'event', ARGV[3], 'data', ARGV[4])
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[6])
if ARGV[1] == 'final' or ARGV[1] == 'marked' then redis.call('SET', KEYS[3], '1', 'EX', ARGV[8]) end
return id
`);

export type AppendMode =
  | { mode: "plain" }
  | { mode: "progress"; gateKey: string }
  | { mode: "final"; gateKey: string; gateTtlSeconds: number; markKey: string; markTtlSeconds: number }
  | { mode: "marked"; markKey: string; markTtlSeconds: number };

/**
 * Appends one event for `userId`'s tabs. Resolves with the entry's id, or null when nothing was
 * appended: a progress event whose submission's final event already was, or a final event
 * that already went out (its mark is there).
 */
export async function appendUserEvent<E extends UserEventEntry["event"] & keyof ServerToClientEvents>(
  redis: Redis,
  prefix: string,
  userId: string,
  event: E,
  payload: Parameters<ServerToClientEvents[E]>[0],
  how: AppendMode,
): Promise<string | null> {
  const gate = how.mode === "progress" || how.mode === "final" ? how.gateKey : "";
  const mark = how.mode === "final" || how.mode === "marked" ? how.markKey : "";
  const reply = await runLuaScript(
    redis,
    APPEND,
    [userEventsStreamKey(prefix), gate, mark],
    [
      how.mode,
      userId,
      event,
      JSON.stringify(payload),
      String(USER_EVENTS_RETENTION_MS),
      String(USER_EVENTS_MAX_ENTRIES),
      String(how.mode === "final" ? how.gateTtlSeconds : 0),
      String(how.mode === "final" || how.mode === "marked" ? how.markTtlSeconds : 0),
    ],
  );
  return typeof reply === "string" ? reply : null;
}

/**
 * A final event that could not be appended (Redis away, a timeout): thrown by the result paths
 * so the result job is parked and its replay appends the event (results.consumer.ts).
 */
export class FinalEventNotAppendedError extends Error {
  constructor(cause: unknown) {
    super("the final event could not be appended to the user-events stream", { cause });
    this.name = "FinalEventNotAppendedError";
  }
}
