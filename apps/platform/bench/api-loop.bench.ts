// How much judging disturbs the API in embedded mode: the launcher (apps/platform/src/main.ts, as
// `npm start` runs it) with a loop probe preloaded into its process, then a judging burst of heavy
// outputs (32 MiB per run) and of many fast tests (100 per submission), while a client keeps
// POSTing. Prints the API process's event-loop delay (monitorEventLoopDelay) and the POST latency,
// idle and while judging. --root runs another checkout (e.g. a `git archive` of an older commit
// with node_modules linked) to compare before/after.
//
//   npx tsx apps/platform/bench/api-loop.bench.ts [--root DIR] [--heavy 4] [--many 3] [--rate 4] [--priority=-10]
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, setPriority, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { io } from "socket.io-client";
import { signToken } from "@sonocode/auth";
import { freePort } from "@sonocode/lifecycle";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: new URL("../../..", import.meta.url).pathname },
    heavy: { type: "string", default: "4" },
    many: { type: "string", default: "3" },
    rate: { type: "string", default: "4" },
    /** Nice value for the launcher and all it starts (a shared, busy machine: -10 keeps other load from dominating). */
    priority: { type: "string", default: "0" },
  },
});
const ROOT = resolve(values.root!);
const SECRET = "api-loop-bench-secret-0123456789abcdefgh";
const PROBE = new URL("./loop-probe.mjs", import.meta.url).pathname;

const HEAVY_C = '#include <stdio.h>\n#include <string.h>\nint main(void) { static char line[1 << 16]; memset(line, 97, sizeof line - 1); line[sizeof line - 1] = 10; for (int i = 0; i < 512; i++) fwrite(line, 1, sizeof line, stdout); return 0; }\n';
const AB_C = '#include <stdio.h>\nint main(void) { long long a, b; if (scanf("%lld %lld", &a, &b) != 2) return 1; printf("%lld\\n", a + b); return 0; }\n';
const PY_TRIVIAL = "print(1)\n";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "sonocode-api-loop-"));
  const probeFile = join(dataDir, "loop.jsonl");
  const [problemPort, submissionPort, socketPort, evaluatorPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const launcher = spawn(process.execPath, ["--import", "tsx", "--import", PROBE, "apps/platform/src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      JWT_SECRET: SECRET,
      DATA_DIR: dataDir,
      SEED: "false",
      SANDBOX_ENGINE: "bwrap",
      EVALUATOR_CONCURRENCY: "1",
      SUBMISSION_RATE_LIMIT_PER_MINUTE: "0",
      SUBMISSION_MAX_IN_FLIGHT: "0",
      PROBLEM_SERVICE_PORT: String(problemPort),
      SUBMISSION_SERVICE_PORT: String(submissionPort),
      SOCKET_SERVICE_PORT: String(socketPort),
      EVALUATOR_PORT: String(evaluatorPort),
      LOOP_PROBE_FILE: probeFile,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  // Set before the launcher forks anything (it takes seconds to boot): its children inherit it.
  if (Number(values.priority) !== 0) setPriority(launcher.pid!, Number(values.priority));
  const stop = async () => {
    if (launcher.exitCode === null) {
      launcher.kill("SIGTERM");
      await new Promise((r) => launcher.once("exit", r));
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    for (const port of [problemPort, submissionPort, evaluatorPort]) {
      const deadline = Date.now() + 180_000;
      while ((await fetch(`${url(port)}/health`).catch(() => null))?.status !== 200) {
        if (Date.now() > deadline || launcher.exitCode !== null) throw new Error(`port ${port} never became healthy`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const admin = await signToken({ sub: "bench-admin", role: "admin" }, SECRET);
    const json = { "content-type": "application/json", authorization: `Bearer ${admin}` };
    const createProblem = async (body: unknown): Promise<string> => {
      const reply = await fetch(`${url(problemPort)}/api/v1/problems`, { method: "POST", headers: json, body: JSON.stringify(body) });
      if (reply.status !== 201) throw new Error(`problem: ${reply.status} ${await reply.text()}`);
      return ((await reply.json()) as { data: { _id: string } }).data._id;
    };
    const heavyProblem = await createProblem({ title: "Heavy", description: "x", difficulty: "easy", testCases: [{ input: "\n", output: "x\n" }], codeStubs: [], timeLimitMs: 5_000, memoryLimitMb: 256 });
    const manyProblem = await createProblem({
      title: "Many",
      description: "x",
      difficulty: "easy",
      testCases: Array.from({ length: 100 }, (_, i) => ({ input: `${i} 1\n`, output: `${i + 1}\n` })),
      codeStubs: [],
    });
    const trivialProblem = await createProblem({ title: "Trivial", description: "x", difficulty: "easy", testCases: [{ input: "\n", output: "1\n" }], codeStubs: [] });

    const socket = io(url(socketPort), { auth: { token: admin }, transports: ["websocket"], reconnection: false, forceNew: true });
    await new Promise<void>((ok, fail) => (socket.once("connect", () => ok()), socket.once("connect_error", fail)));
    let progressEvents = 0;
    const finals = new Set<string>();
    socket.on("submission:progress", () => (progressEvents += 1));
    socket.on("submissionPayloadResponse", (result: { _id: string }) => finals.add(result._id));

    const post = async (problemId: string, language: string, code: string): Promise<{ id: string; ms: number }> => {
      const started = performance.now();
      const reply = await fetch(`${url(submissionPort)}/api/v1/submissions`, { method: "POST", headers: json, body: JSON.stringify({ problemId, language, code }) });
      const ms = performance.now() - started;
      if (reply.status !== 201) throw new Error(`POST: ${reply.status} ${await reply.text()}`);
      return { id: ((await reply.json()) as { data: { submission: { _id: string } } }).data.submission._id, ms };
    };
    const window = async (): Promise<{ p50: number; p99: number; max: number; samples: number }> => {
      const before = (await readFile(probeFile, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
      launcher.kill("SIGUSR2");
      for (;;) {
        const lines = (await readFile(probeFile, "utf8").catch(() => "")).split("\n").filter(Boolean);
        if (lines.length > before) return JSON.parse(lines.at(-1)!);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    /** POSTs trivial submissions at `rate`/s until `until` resolves; their latencies, sorted. */
    const steadyPosts = async (until: Promise<unknown>): Promise<{ latencies: number[]; ids: string[] }> => {
      let done = false;
      void until.then(() => (done = true));
      const latencies: number[] = [];
      const ids: string[] = [];
      const gap = 1_000 / Number(values.rate);
      while (!done) {
        const tick = performance.now();
        const { id, ms } = await post(trivialProblem, "python", PY_TRIVIAL);
        latencies.push(ms);
        ids.push(id);
        await new Promise((r) => setTimeout(r, Math.max(0, gap - (performance.now() - tick))));
      }
      return { latencies: latencies.sort((a, b) => a - b), ids };
    };
    const waitFinal = async (ids: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!ids.every((id) => finals.has(id))) {
        if (Date.now() > deadline) throw new Error(`${ids.filter((id) => !finals.has(id)).length} submissions not final`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // Warm-up (compilers, caches, JIT), then an idle window with the same POST client.
    await waitFinal([(await post(manyProblem, "c", AB_C)).id, (await post(heavyProblem, "c", HEAVY_C)).id], 120_000);
    await window();
    const idle = await steadyPosts(new Promise((r) => setTimeout(r, 5_000)));
    await waitFinal(idle.ids, 60_000);
    const idleLoop = await window();

    progressEvents = 0;
    const startedAt = performance.now();
    const burst: string[] = [];
    for (let i = 0; i < Number(values.heavy); i += 1) burst.push((await post(heavyProblem, "c", HEAVY_C)).id);
    for (let i = 0; i < Number(values.many); i += 1) burst.push((await post(manyProblem, "c", AB_C)).id);
    const burstDone = waitFinal(burst, 600_000);
    const judging = await steadyPosts(burstDone);
    await burstDone;
    const judgingLoop = await window();
    const judgingMs = performance.now() - startedAt;
    // The probe POSTs still queued are left to the shutdown: their latency is what was measured.
    socket.disconnect();

    const row = (name: string, loop: { p50: number; p99: number; max: number }, posts: number[]) =>
      `${name.padEnd(8)} loop p50 ${loop.p50} ms, p99 ${loop.p99} ms, max ${loop.max} ms | POST (${posts.length}) p50 ${percentile(posts, 50).toFixed(1)} ms, p99 ${percentile(posts, 99).toFixed(1)} ms, max ${posts.at(-1)?.toFixed(1)} ms`;
    console.log(`api-loop bench: root ${ROOT}; ${cpus().length} cpus, load ${loadavg().map((l) => l.toFixed(1)).join(" ")}, launcher nice ${values.priority}`);
    console.log(row("idle", idleLoop, idle.latencies));
    console.log(row("judging", judgingLoop, judging.latencies));
    console.log(`burst: ${values.heavy} x 32 MiB output + ${values.many} x 100 tests judged in ${Math.round(judgingMs)} ms; ${progressEvents} progress events reached the socket`);
  } finally {
    await stop();
  }
}

await main();
