import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "@sonocode/lifecycle";
import type { Logger } from "@sonocode/logger";

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

/** setpriv execs redis-server in place, so the pid, the signals and the exit code stay redis-server's. */
const HAS_SETPRIV = spawnSync("setpriv", ["--help"], { encoding: "utf8" }).stdout?.includes("--pdeathsig") === true;

function redisAnswers(port: number): boolean {
  const ping = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "ping"], { encoding: "utf8", timeout: 2_000 });
  return ping.stdout?.trim() === "PONG";
}

/**
 * Embedded mode's Redis: a redis-server child on a free loopback port. The queue
 * survives a restart (append-only file under dataDir), so a Pending submission
 * queued before a crash is still judged after it. noeviction: BullMQ requires it.
 * With dataDir ":memory:" nothing persists: the server works in a private temporary
 * directory, without an append-only file, removed when it stops.
 */
export async function startLocalRedis(options: { dataDir: string; logger: Logger }): Promise<LocalRedis> {
  const which = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  if (which.status !== 0) {
    throw new Error("redis-server is not installed: run 'npm start' (it installs it) or 'sudo apt-get install redis-server', or set REDIS_URL");
  }
  const ephemeral = options.dataDir === ":memory:";
  const dir = ephemeral ? mkdtempSync(join(tmpdir(), "sonocode-redis-")) : resolve(options.dataDir, "redis");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", ephemeral ? "no" : "yes", "--save", "", "--maxmemory-policy", "noeviction"];
  const removeEphemeral = (): void => {
    if (ephemeral) rmSync(dir, { recursive: true, force: true });
  };
  // Dies with the launcher even on SIGKILL (PR_SET_PDEATHSIG through util-linux setpriv): an
  // orphan would keep the append-only file open while the next start runs a second server on it.
  const child: ChildProcess = HAS_SETPRIV
    ? spawn("setpriv", ["--pdeathsig", "SIGTERM", "--", "redis-server", ...args], { stdio: ["ignore", "ignore", "pipe"] })
    : spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let exited = false;
  child.once("exit", (code) => {
    exited = true;
    if (code !== 0 && code !== null) options.logger.error({ code }, "local redis-server exited");
  });
  const deadline = Date.now() + 10_000;
  while (!redisAnswers(port)) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      removeEphemeral();
      throw new Error(`local redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  options.logger.info({ port, pid: child.pid, diesWithLauncher: HAS_SETPRIV }, "local redis-server started");
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolveStop) => {
        if (exited) {
          removeEphemeral();
          return resolveStop();
        }
        child.once("exit", () => {
          removeEphemeral();
          resolveStop();
        });
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}
