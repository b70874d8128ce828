// Interactive ping-pong: the relay latency of a paired run. One test of the line game
// (test/interactive.fixtures.ts: the interactor sends i, reads a line, expects 2i) with a C
// program answering each line, ROUNDS round trips per test; prints per round trip the
// program's wall time (the pair's latency: each round crosses program -> interactor and
// back) and its CPU time, medians over REPEATS judged tests.
//
//   npx tsx packages/judge/bench/interactive.bench.ts             # bwrap
//   npx tsx packages/judge/bench/interactive.bench.ts docker      # or: bwrap docker
//   BENCH_ROUNDS=10000 BENCH_REPEATS=7 npx tsx ...                # the defaults
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JudgeRequest } from "@sonocode/contracts";
import { createBwrapEngine, createDockerEngine, createJudgeWithEngine, DEFAULT_ROOTFS, type SandboxEngine } from "../src/index.js";
import { LINE_PROGRAMS, linesInteractor } from "../test/interactive.fixtures.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function benchEngine(name: string, engine: SandboxEngine): Promise<void> {
  const cacheDir = await mkdtemp(join(tmpdir(), "sonocode-interactive-bench-"));
  const judge = createJudgeWithEngine(engine, { maxConcurrency: 1, checkerCacheDir: cacheDir });
  const { language, source } = LINE_PROGRAMS.doublesC;
  const request: JudgeRequest = {
    language,
    source,
    tests: Array.from({ length: REPEATS + 1 }, () => ({ input: `${ROUNDS}\n`, output: "", hidden: false })),
    timeLimitMs: 10_000,
    memoryLimitMb: 64,
    interactor: linesInteractor,
    runAllTests: true,
  };
  try {
    const t0 = performance.now();
    const verdict = await judge.judge(request);
    const totalMs = performance.now() - t0;
    if (verdict.status !== "Success") throw new Error(`${name}: ${JSON.stringify(verdict).slice(0, 500)}`);
    // The first test warms caches (the interactor's build, page cache).
    const results = verdict.results.slice(1);
    const wallUs = median(results.map((r) => r.wallTimeMs ?? NaN)) * 1000 / ROUNDS;
    const cpuUs = median(results.map((r) => r.timeMs)) * 1000 / ROUNDS;
    const walls = results.map((r) => r.wallTimeMs).join(" ");
    console.log(`${name}: ${ROUNDS} round trips x ${REPEATS}: program wall ${wallUs.toFixed(2)} us/round trip (median; tests ${walls} ms), program cpu ${cpuUs.toFixed(2)} us/round trip; judge total ${totalMs.toFixed(0)} ms`);
  } finally {
    await judge.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
const engines = wanted.length > 0 ? wanted : ["bwrap"];
for (const name of engines) {
  if (name === "bwrap") await benchEngine(name, createBwrapEngine({ rootfs: process.env.SONOCODE_TEST_ROOTFS || DEFAULT_ROOTFS }));
  else if (name === "docker") await benchEngine(name, createDockerEngine({}));
  else throw new Error(`unknown engine ${name}`);
}
