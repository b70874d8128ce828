// The platform under test: apps/platform/src/main.ts as its own process, the way
// `npm start` runs it (without setup.sh), on free ports, with a DATA_DIR of its own under
// /tmp and only the public configuration variables. Redis is a redis-server child of
// ours started with the launcher's own flags (append-only file, noeviction) and handed
// over as REDIS_URL, so the benchmark can read MEMORY USAGE from it. Both children get
// their own process group; stop() ends them (TERM, then KILL) and is safe to call twice.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signToken } from "@sonocode/auth";
import { freePort } from "@sonocode/lifecycle";
import { resolveJwtSecret } from "../../apps/platform/src/dev-secret.js";
import { childPids, type PlatformPids } from "./process-cpu.js";

export interface BenchPlatformOptions {
  repoRoot: string;
  rootfs: string;
  /** EVALUATOR_CONCURRENCY; undefined leaves the platform's default. */
  slots?: number | undefined;
  logLevel: string;
  keepData: boolean;
  /** --cpu-prof: every Node process of the platform writes a V8 CPU profile into this directory at exit. */
  cpuProfileDir?: string | undefined;
  /** --node-options: NODE_OPTIONS for every Node process of the platform (e.g. --perf-basic-prof for perf). */
  nodeOptions?: string | undefined;
}

export interface BenchPlatform {
  urls: { problem: string; submission: string; socket: string; evaluator: string };
  redisUrl: string;
  dataDir: string;
  /** The variables the platform was started with (secret left out), for the report. */
  env: Record<string, string>;
  token(sub: string, role: "user" | "admin"): Promise<string>;
  /** Last lines of the platform's output, for error messages. */
  logTail(): Promise<string>;
  /** The platform's whole output so far (JSON log lines), for --breakdown. */
  log(): Promise<string>;
  /** The launcher, its evaluator child (null while there is none) and Redis, for CPU accounting. */
  pids(): PlatformPids;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 20_000;
const live = new Set<ChildProcess>();
/** stop() of every platform from the moment its DATA_DIR exists, also while it is still starting. */
const unstopped = new Set<() => Promise<void>>();

/** For a signal handler: stops every platform this process started (or is starting) and removes their data. */
export async function stopEveryPlatform(): Promise<void> {
  await Promise.all([...unstopped].map((stop) => stop()));
}

/** Last resort on any exit path of the benchmark: no child outlives it. */
process.once("exit", () => {
  for (const child of live) killGroup(child, "SIGKILL");
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return void live.delete(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // TERM to the leader only: the platform closes its sandboxes itself; KILL the group if it hangs.
  child.kill("SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
  killGroup(child, "SIGKILL"); // anything the leader left behind in its group
  live.delete(child);
}

function spawnGrouped(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; log: string }): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  const log = createWriteStream(options.log, { flags: "a" });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

async function startRedis(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const dir = join(dataDir, "redis");
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", "", "--maxmemory-policy", "noeviction"];
  const child = spawnGrouped("redis-server", args, { log: join(dataDir, "redis.log") });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ping = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "ping"], { encoding: "utf8", timeout: 2_000 });
    if (ping.stdout?.trim() === "PONG") return { child, url: `redis://127.0.0.1:${port}` };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function healthy(url: string, platform: ChildProcess, deadline: number, logTail: () => Promise<string>): Promise<void> {
  for (;;) {
    if (platform.exitCode !== null || platform.signalCode !== null) throw new Error(`platform exited (${platform.exitCode ?? platform.signalCode}):\n${await logTail()}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/health not 200 after ${READY_TIMEOUT_MS} ms:\n${await logTail()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** NODE_OPTIONS (inherited by the evaluator child, as fork keeps the environment) for --cpu-prof and --node-options. */
function nodeOptionsEnv(options: BenchPlatformOptions): Record<string, string> {
  const flags = [
    ...(options.cpuProfileDir === undefined ? [] : [`--import ${join(options.repoRoot, "scripts/bench/cpu-profile.preload.mjs")}`]),
    ...(options.nodeOptions ? [options.nodeOptions] : []),
  ];
  return {
    ...(flags.length > 0 ? { NODE_OPTIONS: flags.join(" ") } : {}),
    ...(options.cpuProfileDir === undefined ? {} : { SONOCODE_CPU_PROFILE_DIR: options.cpuProfileDir }),
  };
}

export async function startBenchPlatform(options: BenchPlatformOptions): Promise<BenchPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), "sonocode-bench-pipeline-"));
  const logPath = join(dataDir, "platform.log");
  const log = () => readFile(logPath, "utf8").catch(() => "");
  const logTail = async () => (await log()).split("\n").slice(-30).join("\n");
  let redis: ChildProcess | undefined;
  let platform: ChildProcess | undefined;
  const stop = async () => {
    unstopped.delete(stop);
    if (platform) await stopChild(platform);
    if (redis) await stopChild(redis);
    if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
  };
  unstopped.add(stop);
  try {
    // As `npm run token` does: the secret file under DATA_DIR, created here, reused by the platform.
    const { secret } = await resolveJwtSecret({ dataDir });
    const started = await startRedis(dataDir);
    redis = started.child;
    const ports = { problem: await freePort(), submission: await freePort(), socket: await freePort(), evaluator: await freePort() };
    const env: Record<string, string> = {
      NODE_ENV: "production", // no banner with dev tokens on stdout; the benchmark signs its own
      LOG_LEVEL: options.logLevel,
      DATA_DIR: dataDir,
      REDIS_URL: started.url,
      SEED: "false",
      HOST: "127.0.0.1",
      PROBLEM_SERVICE_PORT: String(ports.problem),
      SUBMISSION_SERVICE_PORT: String(ports.submission),
      SOCKET_SERVICE_PORT: String(ports.socket),
      EVALUATOR_PORT: String(ports.evaluator),
      SANDBOX_ENGINE: "bwrap",
      SANDBOX_ROOTFS: options.rootfs,
      SUBMISSION_RATE_LIMIT_PER_MINUTE: "0",
      SUBMISSION_MAX_IN_FLIGHT: "0",
      ...(options.slots === undefined ? {} : { EVALUATOR_CONCURRENCY: String(options.slots) }),
      ...nodeOptionsEnv(options),
    };
    // Only PATH and the like from our environment: no stray service variable (DATABASE_URL, JWT_SECRET…) leaks in.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => ["PATH", "HOME", "LANG", "TMPDIR"].includes(key)));
    platform = spawnGrouped(process.execPath, ["--import", "tsx", join(options.repoRoot, "apps/platform/src/main.ts")], {
      cwd: options.repoRoot,
      env: { ...inherited, ...env },
      log: logPath,
    });
    const urls = {
      problem: `http://127.0.0.1:${ports.problem}`,
      submission: `http://127.0.0.1:${ports.submission}`,
      socket: `http://127.0.0.1:${ports.socket}`,
      evaluator: `http://127.0.0.1:${ports.evaluator}`,
    };
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const url of [urls.problem, urls.submission, urls.socket]) await healthy(url, platform, deadline, logTail);
    return {
      urls,
      redisUrl: started.url,
      dataDir,
      env,
      token: (sub, role) => signToken({ sub, role }, secret, "2h"),
      logTail,
      log,
      pids: () => {
        const launcher = platform!.pid!;
        // The child renames itself (process.title "sonocode-evaluator"), which rewrites its command line.
        return { launcher, evaluator: childPids(launcher, "evaluator")[0] ?? null, redis: redis!.pid! };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
