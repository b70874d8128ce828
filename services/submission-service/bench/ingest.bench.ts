// Ingest benchmark (issue 9): accepted POST /api/v1/submissions per second and
// latency percentiles at a fixed number of requests in flight, against the real
// embedded platform (`apps/platform/src/main.ts` as its own process, judging on)
// on PGlite or on a PostgreSQL server of its own. A script, not a timed test.
//
//   npx tsx services/submission-service/bench/ingest.bench.ts [--store pglite|postgres]
//       [--mode embedded|api] [--connections 32] [--seconds 10] [--warmup 2] [--users 64] [--cpu-prof DIR]
//       [--client raw|node] [--log-level info]
//
// --mode api runs only the POST path (problem-service + submission-service, bench/api-only.server.ts)
// on a Redis of its own, no evaluator: its CPU time per accepted POST is the figure that
// holds on a busy machine, where requests per second mostly measure the neighbours.
//
// The per-user caps stay on (raised, so no request is refused) so their checks are
// part of what is measured; users rotate over a pool of tokens. The API logs at --log-level
// (info, as deployed) into a pipe this script drains (api mode) or /dev/null (embedded).
//
// The load generator runs on the same machine: on 2 cores what it spends, the API does not
// get. --client raw (default) is a bare keep-alive socket per connection (raw-http.client.ts);
// --client node is node:http's Agent, several times as costly per request. The output gives
// CPU ms per accepted POST of the API process, of this script, and (api mode) of redis-server.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { signToken } from "@sonocode/auth";
import { freePort, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from "@sonocode/testkit";
import { Redis } from "ioredis";
import type { Readable } from "node:stream";
import { postRequest, RawConnection } from "./raw-http.client.js";

const { values: args } = parseArgs({
  options: {
    store: { type: "string", default: "pglite" },
    mode: { type: "string", default: "embedded" },
    connections: { type: "string", default: "32" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    users: { type: "string", default: "64" },
    "cpu-prof": { type: "string" },
    "log-level": { type: "string", default: "info" },
    client: { type: "string", default: "raw" },
  },
});

const ROOT = resolve(import.meta.dirname, "../../..");
const SECRET = `ingest-bench-${"x".repeat(32)}`;
const CONNECTIONS = Number(args.connections);
const USERS = Number(args.users);

/** A+B in C with ten tests: what the table measures against. */
const PROBLEM = {
  title: "A + B (bench)",
  description: "Print a + b.",
  difficulty: "easy",
  testCases: Array.from({ length: 10 }, (_, i) => ({ input: `${i} ${i * 3}\n`, output: `${i * 4}\n`, hidden: i > 2 })),
  codeStubs: [],
};
const C_SOURCE = '#include <stdio.h>\nint main(void){long long a,b;if(scanf("%lld %lld",&a,&b)!=2)return 1;printf("%lld\\n",a+b);return 0;}\n';

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function post(url: string, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, { method: "POST", agent, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolvePost({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`platform exited (${child.exitCode})`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy after 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** CPU time (user + system, ms) the platform process has used: a per-POST figure that survives a busy machine. */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the command).
  return ((Number(fields[11]) + Number(fields[12])) * 1_000) / 100;
}

/** redis-server's own CPU seconds (user + system), from INFO: the job adds' Lua runs there. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1_000;
}

/** The api-only server's address line (its logs share stdout); the rest is read and dropped, as a log collector would. */
function addressLine(stream: Readable): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const line = text.split("\n").slice(0, -1).find((candidate) => candidate.startsWith('{"problem":'));
      if (line === undefined) return;
      stream.off("data", onData);
      stream.on("data", () => undefined);
      resolveLine(line);
    };
    stream.on("data", onData);
    stream.once("end", () => reject(new Error("api-only server closed stdout before reporting its address")));
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "sonocode-ingest-bench-"));
  let postgres: PrivatePostgres | undefined;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: "production",
    LOG_LEVEL: args["log-level"]!,
    JWT_SECRET: SECRET,
    DATA_DIR: dataDir,
    SEED: "false",
    HOST: "127.0.0.1",
    SUBMISSION_RATE_LIMIT_PER_MINUTE: "100000",
    SUBMISSION_MAX_IN_FLIGHT: "10000",
  };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  if (args.store === "postgres") {
    postgres = await startPrivatePostgres();
    env.DATABASE_URL = await postgres.createDatabase("ingest_bench");
  }
  const ports = { problem: await freePort(), submission: await freePort(), socket: await freePort(), evaluator: await freePort() };
  Object.assign(env, {
    PROBLEM_SERVICE_PORT: String(ports.problem),
    SUBMISSION_SERVICE_PORT: String(ports.submission),
    SOCKET_SERVICE_PORT: String(ports.socket),
    EVALUATOR_PORT: String(ports.evaluator),
  });
  const nodeArgs = ["--import", "tsx"];
  if (args["cpu-prof"]) nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${resolve(args["cpu-prof"])}`);
  let redis: PrivateRedis | undefined;
  let child: ChildProcess;
  let problemUrl = `http://127.0.0.1:${ports.problem}`;
  let submissionUrl = `http://127.0.0.1:${ports.submission}`;
  if (args.mode === "api") {
    redis = await startPrivateRedis();
    env.REDIS_URL = redis.url;
    child = spawn(process.execPath, [...nodeArgs, join(ROOT, "services/submission-service/bench/api-only.server.ts")], { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
    const line = await Promise.race([
      addressLine(child.stdout!),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("api-only server did not start in 120 s")), 120_000)),
    ]);
    ({ problem: problemUrl, submission: submissionUrl } = JSON.parse(line) as { problem: string; submission: string });
  } else {
    child = spawn(process.execPath, [...nodeArgs, join(ROOT, "apps/platform/src/main.ts")], { cwd: ROOT, env, stdio: ["ignore", "ignore", "inherit"] });
  }
  try {
    await waitForHealth(submissionUrl, child);
    const admin = await signToken({ sub: "bench-admin", role: "admin" }, SECRET);
    const created = await fetch(`${problemUrl}/api/v1/problems`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify(PROBLEM),
    });
    if (created.status !== 201) throw new Error(`problem create: ${created.status} ${await created.text()}`);
    const problemId = ((await created.json()) as { data: { _id: string } }).data._id;
    const tokens = await Promise.all(Array.from({ length: USERS }, (_, i) => signToken({ sub: `bench-user-${i}`, role: "user" }, SECRET)));
    const body = JSON.stringify({ problemId, language: "c", code: C_SOURCE });
    const url = `${submissionUrl}/api/v1/submissions`;
    const rawRequests = tokens.map((token) => postRequest(new URL(url), token, body));
    const raw = Array.from({ length: CONNECTIONS }, () => new RawConnection(new URL(url)));
    const redisInfo = redis ? new Redis(redis.url, { maxRetriesPerRequest: 1 }) : undefined;

    let measuring = false;
    let stop = false;
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let sample = "";
    let next = 0;
    const loop = async (_: unknown, connection: number) => {
      while (!stop) {
        const index = next++ % tokens.length;
        const started = performance.now();
        const { status, text } =
          args.client === "node" ? await post(url, tokens[index]!, body) : await raw[connection]!.send(rawRequests[index]!).then((r) => ({ status: r.status, text: r.body }));
        const elapsed = performance.now() - started;
        if (!measuring) continue;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 201) latencies.push(elapsed);
        else if (!sample) sample = text.slice(0, 300);
      }
    };
    const loops = Array.from({ length: CONNECTIONS }, loop);
    await new Promise((r) => setTimeout(r, Number(args.warmup) * 1_000));
    const cpu0 = await cpuMs(child.pid!);
    const benchCpu0 = process.cpuUsage();
    const redisCpu0 = redisInfo ? await redisCpuMs(redisInfo) : 0;
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, Number(args.seconds) * 1_000));
    measuring = false;
    const cpuUsed = (await cpuMs(child.pid!)) - cpu0;
    const benchCpu = process.cpuUsage(benchCpu0);
    const redisCpuUsed = redisInfo ? (await redisCpuMs(redisInfo)) - redisCpu0 : Number.NaN;
    const seconds = (performance.now() - t0) / 1_000;
    stop = true;
    await Promise.all(loops);
    for (const connection of raw) connection.close();
    redisInfo?.disconnect();
    latencies.sort((a, b) => a - b);
    const accepted = latencies.length;
    const result = {
      store: args.store,
      mode: args.mode,
      connections: CONNECTIONS,
      users: USERS,
      seconds: Number(seconds.toFixed(1)),
      acceptedPerSecond: Math.round(accepted / seconds),
      p50ms: Number(percentile(latencies, 50).toFixed(1)),
      p90ms: Number(percentile(latencies, 90).toFixed(1)),
      p99ms: Number(percentile(latencies, 99).toFixed(1)),
      maxms: Number((latencies.at(-1) ?? Number.NaN).toFixed(1)),
      // The API process only: the embedded evaluator is a child process of its own.
      apiCpuMsPerPost: accepted ? Number((cpuUsed / accepted).toFixed(3)) : null,
      benchCpuMsPerPost: accepted ? Number(((benchCpu.user + benchCpu.system) / 1_000 / accepted).toFixed(3)) : null,
      redisCpuMsPerPost: accepted && redisInfo ? Number((redisCpuUsed / accepted).toFixed(3)) : null,
      client: args.client,
      logLevel: args["log-level"],
      statuses: Object.fromEntries(statuses),
      machine: `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (sample) process.stdout.write(`first non-201 body: ${sample}\n`);
  } finally {
    agent.destroy();
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
    await postgres?.dispose();
    await redis?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
