import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { luaScript, runLuaScript } from "./lua-script.js";

/**
 * "Act once per period across replicas": every replica calls acquire() on its
 * own timer; SET NX PX lets exactly one of them win each window, and the key is
 * left to expire (not released) so no other replica acts again in the same
 * period. A holder whose work outlasts half the window extends it with
 * extend(), which only succeeds while the key still holds its own token, so a
 * holder that lost the key (expired during a pause) stops instead of acting
 * alongside the next one.
 */
export interface PeriodLock {
  acquire(): Promise<boolean>;
  extend(): Promise<boolean>;
}

const EXTEND_IF_OWNER = luaScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`);

export function createPeriodLock(redis: Redis, key: string, periodMs: number): PeriodLock {
  let token = "";
  return {
    async acquire() {
      token = randomUUID();
      return (await redis.set(key, token, "PX", periodMs, "NX")) === "OK";
    },
    async extend() {
      if (!token) return false;
      return (await runLuaScript(redis, EXTEND_IF_OWNER, [key], [token, String(periodMs)])) === 1;
    },
  };
}
