// Redis connection helpers shared by every service: connect with a deadline and a
// clear error, ping with a deadline for health checks, quit without hanging shutdown.
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "@sonocode/logger";

export { luaScript, runLuaScript, type LuaScript } from "./lua-script.js";
export { createPeriodLock, type PeriodLock } from "./period-lock.js";
export { PROBLEM_CHANGES_ALL, problemChangesChannel } from "./problem-changes.js";

/**
 * Opens an ioredis client and waits for it to be ready, so a wrong REDIS_URL fails
 * start-up with a clear error instead of a silent retry loop. After start-up ioredis
 * reconnects on its own; errors are logged (once per burst) rather than thrown.
 */
export async function connectRedis(url: string, name: string, logger: Logger, options: RedisOptions = {}, timeoutMs = 10_000): Promise<Redis> {
  const redis = new Redis(url, { connectionName: name, lazyConnect: true, ...options });
  let lastLogged = 0;
  redis.on("error", (error: Error) => {
    // A down Redis emits an error per reconnect attempt: log at most every 5 s.
    if (Date.now() - lastLogged > 5_000) {
      lastLogged = Date.now();
      logger.warn({ redis: name, err: { message: error.message } }, "redis connection error");
    }
  });
  try {
    await withTimeout(redis.connect(), timeoutMs, `redis ${name}: not ready after ${timeoutMs} ms`);
  } catch (error) {
    redis.disconnect();
    // Host and port only: a REDIS_URL may carry a password.
    const where = URL.canParse(url) ? new URL(url).host : "REDIS_URL";
    throw new Error(`redis ${name}: cannot connect to ${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return redis;
}

/** Ping with a deadline: health checks must answer fast even when Redis hangs. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  if (redis.status !== "ready") throw new Error(`redis is ${redis.status}`);
  await withTimeout(redis.ping(), timeoutMs, "redis ping timed out");
}

/** QUIT politely, but never hang shutdown on a Redis that is gone. */
export async function quitRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  if (redis.status === "end") return;
  if (redis.status !== "ready") {
    // Reconnecting or never connected: QUIT would only sit in the offline queue.
    redis.disconnect();
    return;
  }
  try {
    await withTimeout(redis.quit(), timeoutMs, "redis quit timed out");
  } catch {
    redis.disconnect();
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
