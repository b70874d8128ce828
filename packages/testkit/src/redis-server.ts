// A redis-server of the test's own, for tests that kill Redis without touching the shared one.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@sonocode/lifecycle";
import { Redis } from "ioredis";

export interface PrivateRedisOptions {
  /**
   * Append-only file in a private directory, as compose.yaml runs Redis: what was acknowledged
   * survives kill -9 + restart (fsync every second, Redis's default; "always" for no loss at all).
   */
  appendOnly?: boolean | { fsync: "everysec" | "always" };
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** kill -9 (no shutdown save, no goodbye to clients). */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (so with AOF, with the same data). */
  restart(): Promise<void>;
  /** Kills it and removes its directory. */
  dispose(): Promise<void>;
}

async function waitForPing(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`private redis-server exited (${child.exitCode ?? child.signalCode})`);
    const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      // LOADING (replaying the AOF) is an error reply: not ready yet.
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error("private redis-server did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A throwaway redis-server on a free port; with appendOnly it can be killed and restarted without losing data. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  // Only an append-only server writes anything, so only it gets a directory (removed by dispose()).
  const dir = options.appendOnly ? await mkdtemp(join(tmpdir(), "sonocode-redis-")) : null;
  const fsync = typeof options.appendOnly === "object" ? options.appendOnly.fsync : "everysec";
  const persistence = dir ? ["--dir", dir, "--appendonly", "yes", "--appendfsync", fsync] : ["--appendonly", "no"];
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--maxmemory-policy", "noeviction", ...persistence];

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  const start = async () => {
    const started = spawn("redis-server", args, { stdio: "ignore" });
    child = started;
    exited = new Promise<void>((resolve) => started.once("exit", () => resolve()));
    try {
      await waitForPing(port, started);
    } catch (error) {
      await kill();
      throw error;
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    async restart() {
      await kill();
      await start();
    },
    async dispose() {
      await kill();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
