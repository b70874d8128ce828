// The launcher's own redis-server: with DATA_DIR ":memory:" it keeps nothing, anywhere.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { silentLogger } from "@sonocode/logger";
import { startLocalRedis } from "../src/redis.process.js";

function configGet(url: string, key: string): string {
  const { port } = new URL(url);
  const out = spawnSync("redis-cli", ["-p", port, "config", "get", key], { encoding: "utf8" }).stdout.trim().split("\n");
  return out[1] ?? "";
}

test('DATA_DIR ":memory:": redis-server works in a private temporary directory, without an append-only file, removed on stop', async () => {
  const redis = await startLocalRedis({ dataDir: ":memory:", logger: silentLogger() });
  let dir = "";
  try {
    dir = configGet(redis.url, "dir");
    assert.ok(dir.startsWith(tmpdir()), `redis works under the temp dir, not a ":memory:" folder of the cwd (${dir})`);
    assert.equal(configGet(redis.url, "appendonly"), "no");
    assert.ok(existsSync(dir));
  } finally {
    await redis.stop();
  }
  assert.equal(existsSync(dir), false, "the directory is gone once the server stopped");
});
