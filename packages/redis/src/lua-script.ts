import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A Lua script sent by its SHA1 (EVALSHA): the text goes over the wire only when the server
 * does not know it yet (NOSCRIPT: a fresh server, a restart, SCRIPT FLUSH), then by SHA again.
 * Each EVAL would send the whole text and have the server hash it, on every call.
 */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

export function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

export async function runLuaScript(redis: Redis, script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.eval(script.lua, keys.length, ...keys, ...args);
  }
}
