import { strict as assert } from "node:assert";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { startPrivateRedis, uniqueName, type PrivateRedis } from "@sonocode/testkit";
import { luaScript, runLuaScript } from "../src/lua-script.js";

describe("runLuaScript (EVALSHA, EVAL on NOSCRIPT)", () => {
  // A server of its own: SCRIPT FLUSH on the shared one would make other test files' next script a NOSCRIPT round trip.
  let server: PrivateRedis;
  let redis: Redis;
  let monitor: Redis;
  before(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    monitor = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    monitor.disconnect();
    await server.dispose();
  });

  test("the text is sent once, then the script goes by its SHA, and again after the server forgot it", async () => {
    const key = uniqueName("lua");
    // A script of its own (a comment naming the key): no other test has loaded it.
    const script = luaScript(`-- ${key}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const seen: string[] = [];
    const watch = await monitor.monitor();
    watch.on("monitor", (_time: string, args: string[]) => {
      if (args.includes(key)) seen.push(String(args[0]).toLowerCase());
    });
    assert.equal(await runLuaScript(redis, script, [key], ["2"]), 2);
    assert.equal(await runLuaScript(redis, script, [key], ["3"]), 5);
    await redis.script("FLUSH");
    assert.equal(await runLuaScript(redis, script, [key], ["4"]), 9);
    await redis.ping();
    await new Promise((resolve) => setTimeout(resolve, 50));
    watch.disconnect();
    // evalsha (NOSCRIPT) → eval, evalsha, evalsha (NOSCRIPT after the flush) → eval; the INCRBYs the scripts ran are logged as well.
    assert.deepEqual(seen.filter((name) => name === "eval" || name === "evalsha"), ["evalsha", "eval", "evalsha", "evalsha", "eval"]);
    await redis.del(key);
  });

  test("a script's own error is not mistaken for NOSCRIPT", async () => {
    const script = luaScript(`return redis.error_reply('NOPE ${uniqueName("lua")}')`);
    await assert.rejects(runLuaScript(redis, script, [], []), /NOPE/);
  });
});
