// CPU pinning per slot (issue 9): does judging two submissions at once change the
// times each one reports? A CPU-bound C loop (~0.3 s) is run ROUNDS times in one
// session alone, then in two sessions at once, with the slots pinned to their own CPU
// and (Docker only: pinCpus false) unpinned. Prints the median and p90 of the
// reported CPU and wall time per run for each case.
//   npx tsx packages/judge/bench/slots.bench.ts [docker|bwrap]   (BENCH_SLOTS_ROUNDS=15)
// Compare the 2-slot rows with the 1-slot row: pinned, they should match on an idle
// 2-core machine; a busy machine (see the load printed) distorts every row.
import { loadavg } from "node:os";
import { createBwrapEngine } from "../src/engines/bwrap/engine.js";
import { createDockerEngine } from "../src/engines/docker/engine.js";
import type { RunLimits, SandboxEngine, SandboxSession } from "../src/sandbox/sandbox.js";

const ROUNDS = Number(process.env.BENCH_SLOTS_ROUNDS ?? 15);
const MiB = 1024 * 1024;
const LIMITS: RunLimits = { cpuTimeMs: 5_000, wallTimeMs: 15_000, memoryBytes: 64 * MiB, outputBytes: 4096, processes: 8, fileSizeBytes: 4096 };
const COMPILE: RunLimits = { cpuTimeMs: 10_000, wallTimeMs: 30_000, memoryBytes: 512 * MiB, outputBytes: 65536, processes: 32, fileSizeBytes: 64 * MiB };
const SOURCE = "int main(void){volatile unsigned long i;for(i=0;i<400000000UL;i++);return 0;}\n";

async function prepared(engine: SandboxEngine): Promise<SandboxSession> {
  const session = await engine.open();
  await session.writeFile("spin.c", SOURCE);
  const out = await session.run({ argv: ["/usr/bin/gcc", "-O1", "-o", "/box/spin", "/box/spin.c"], stdin: "", limits: COMPILE, writableWorkDir: true });
  if (out.exitCode !== 0) throw new Error(`compile failed: ${out.stderr.toString()}`);
  return session;
}

async function spin(session: SandboxSession, into: { cpu: number[]; wall: number[] }): Promise<void> {
  for (let i = 0; i < ROUNDS; i++) {
    const out = await session.run({ argv: ["/box/spin"], stdin: "", limits: LIMITS, writableWorkDir: false });
    if (out.exitCode !== 0) throw new Error(`spin exited ${out.exitCode ?? out.signal}`);
    into.cpu.push(out.cpuTimeMs);
    into.wall.push(out.wallTimeMs);
  }
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

async function scenario(label: string, engine: SandboxEngine, slots: number): Promise<void> {
  const sessions = await Promise.all(Array.from({ length: slots }, () => prepared(engine)));
  const times = { cpu: [] as number[], wall: [] as number[] };
  try {
    await Promise.all(sessions.map((s) => spin(s, times)));
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
  }
  const row = [label, String(slots), ...[0.5, 0.9].map((p) => String(Math.round(pct(times.cpu, p)))), ...[0.5, 0.9].map((p) => String(Math.round(pct(times.wall, p))))];
  console.log(`| ${row.join(" | ")} |`);
}

const kind = process.argv[2] === "bwrap" ? "bwrap" : "docker";
console.log(`engine ${kind}, ${ROUNDS} runs per session, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log("| case | slots | cpu p50 ms | cpu p90 ms | wall p50 ms | wall p90 ms |");
console.log("|---|---|---|---|---|---|");
const pinned = kind === "bwrap" ? createBwrapEngine({}) : createDockerEngine({});
try {
  await scenario("pinned", pinned, 1);
  await scenario("pinned", pinned, 2);
} finally {
  await pinned.close();
}
if (kind === "docker") {
  const loose = createDockerEngine({ pinCpus: false });
  try {
    await scenario("unpinned", loose, 2);
  } finally {
    await loose.close();
  }
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
