// Sandbox benchmark: per-run overhead of each engine (sandboxed /usr/bin/true minus a
// native /bin/true spawn, the two in turn; and minus the program's own wall time) and
// end-to-end time to judge A+B in Python, C and C++ over 10 tests.
//
//   npm run bench:sandbox                 # every engine that works here
//   npm run bench:sandbox -- bwrap        # only bwrap (or: docker, bwrap docker)
//   BENCH_RUNS=200 npm run bench:sandbox  # more samples
import { spawn } from "node:child_process";
import type { JudgeRequest } from "@sonocode/contracts";
import { createBwrapEngine, createDockerEngine, createJudgeWithEngine, type RunLimits, type SandboxEngine } from "../src/index.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const JUDGE_ROUNDS = Number(process.env.BENCH_JUDGE_ROUNDS ?? 5);
const LIMITS: RunLimits = { cpuTimeMs: 2_000, wallTimeMs: 5_000, memoryBytes: 256 << 20, outputBytes: 1 << 20, processes: 64, fileSizeBytes: 1 << 20 };

const TESTS = Array.from({ length: 10 }, (_, i) => ({ input: `${i} ${i * 7}\n`, output: `${i * 8}\n` }));
const SOLUTIONS: Record<string, JudgeRequest> = {
  "python A+B x10": { language: "PYTHON", source: "a, b = map(int, input().split())\nprint(a + b)", tests: TESTS },
  "c A+B x10": { language: "C", source: "#include <stdio.h>\nint main(void){long long a,b;if(scanf(\"%lld %lld\",&a,&b)!=2)return 1;printf(\"%lld\\n\",a+b);return 0;}", tests: TESTS },
  "c++ A+B x10": { language: "CPP", source: "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<'\\n';}", tests: TESTS },
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

function nativeTrue(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("/bin/true", [], { stdio: ["pipe", "pipe", "pipe"] });
    child.on("error", reject);
    child.on("close", () => resolve(performance.now() - t0));
  });
}

const ms = (n: number) => `${n.toFixed(1)} ms`.padStart(10);

async function benchEngine(engine: SandboxEngine) {
  const t0 = performance.now();
  await engine.check();
  const checkMs = performance.now() - t0;
  const session = await engine.open();
  const samples: number[] = [];
  const natives: number[] = [];
  const around: number[] = [];
  try {
    // Native spawns and sandboxed runs in turn, so both see the same machine (it is shared and noisy).
    for (let i = 0; i < RUNS + 5; i++) {
      const n = await nativeTrue();
      const t = performance.now();
      const out = await session.run({ argv: ["/usr/bin/true"], stdin: "", limits: LIMITS, writableWorkDir: false });
      const ms = performance.now() - t;
      if (out.exitCode !== 0) throw new Error(`sandboxed /usr/bin/true failed: ${JSON.stringify(out)}`);
      if (i < 5) continue; // the first runs warm caches
      samples.push(ms);
      natives.push(n);
      // What the sandbox adds around the program: the run as the judge saw it minus the program's own wall time (fork to reap, as the engine measured it).
      around.push(ms - out.wallTimeMs);
    }
  } finally {
    await session.dispose();
  }
  const run = stats(samples);
  const native = stats(natives);
  const overhead = stats(samples.map((s) => s - native.median));

  const judge = createJudgeWithEngine(engine, { maxConcurrency: 1 });
  const judged: Record<string, { median: number; p99: number }> = {};
  /** The wall time the judge reports per test (what a user sees), over every test of every round. */
  const testWall: Record<string, { median: number; p99: number }> = {};
  for (const [name, request] of Object.entries(SOLUTIONS)) {
    const times: number[] = [];
    const walls: number[] = [];
    for (let i = 0; i < JUDGE_ROUNDS + 1; i++) {
      const t = performance.now();
      const verdict = await judge.judge(request);
      if (verdict.status !== "Success") throw new Error(`${name} on ${engine.name}: ${verdict.status} ${verdict.message ?? ""}`);
      if (i > 0) {
        times.push(performance.now() - t);
        for (const r of verdict.results) if (r.wallTimeMs !== undefined) walls.push(r.wallTimeMs);
      }
    }
    judged[name] = stats(times);
    testWall[name] = stats(walls);
  }
  await judge.close();
  return { checkMs, run, native, overhead, around: stats(around), judged, testWall };
}

async function main() {
  const wanted = process.argv.slice(2).filter((a) => a === "bwrap" || a === "docker");
  const engines = wanted.length > 0 ? wanted : ["bwrap", "docker"];
  const rows: string[] = [];
  rows.push(["engine", "native median", "native p99", "run median", "run p99", "ovh median", "ovh p99", "around p50", "around p99", "C test wall", ...Object.keys(SOLUTIONS).map((n) => n.padStart(16))].join(" | "));
  const goals: string[] = [];
  for (const name of engines) {
    const engine = name === "docker" ? createDockerEngine({}) : createBwrapEngine({});
    try {
      const r = await benchEngine(engine);
      const cWall = r.testWall["c A+B x10"]!;
      rows.push(
        [name.padEnd(6), ms(r.native.median).padStart(13), ms(r.native.p99), ms(r.run.median), ms(r.run.p99).padStart(7), ms(r.overhead.median), ms(r.overhead.p99).padStart(7), ms(r.around.median), ms(r.around.p99), ms(cWall.median).padStart(11), ...Object.values(r.judged).map((j) => ms(j.median).padStart(16))].join(" | "),
      );
      // Issue 9's targets: per empty run <= 1.5 ms over a native spawn; a trivial C test reported in <= 3 ms.
      const ok = (v: number, goal: number) => `${v.toFixed(1)} ms (goal <= ${goal} ms: ${v <= goal ? "met" : "NOT met"})`;
      goals.push(`${name}: overhead median ${ok(r.overhead.median, 1.5)}, p99 ${ok(r.overhead.p99, 1.5)} (native p99 - median here: ${(r.native.p99 - r.native.median).toFixed(1)} ms), C test wall median ${ok(cWall.median, 3)}`);
    } catch (error) {
      rows.push(`${name.padEnd(6)} | unavailable: ${error instanceof Error ? error.message : String(error)}`);
      if (wanted.length > 0) process.exitCode = 1;
    } finally {
      await engine.close().catch(() => undefined);
    }
  }
  console.log(rows.join("\n"));
  if (goals.length > 0) console.log(`\n${goals.join("\n")}`);
  console.log(`\nnative = Node spawning /bin/true, in turn with the runs (${RUNS} each); run = one sandboxed /usr/bin/true (cgroup, namespaces, fork, teardown); ovh = run minus the native median; around = run minus the program's own wall time (fork to reap, as the engine measured it: what the sandbox adds around it); judge columns = median of ${JUDGE_ROUNDS} judgements (compile + 10 runs); C test wall = median wall time the judge reports per test of the C A+B.`);
}

await main();
