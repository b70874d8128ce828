// Checker benchmark: adversarial 64 MiB outputs (what froze the platform before the
// checkers went linear) against every checker.
//  1. direct: each case checked on this thread, timed, with the heap growth it caused;
//  2. pool:   all cases judged through the checker worker pool (as the judge does) while
//             this thread's event-loop delay is sampled (monitorEventLoopDelay).
// Targets (issue 7): each case <= 1 s and <= 100 MiB extra heap; event-loop p99 <= 50 ms.
//
//  3. judge:  with an engine named (bwrap | docker), real programs print such outputs and
//             are judged end to end while this thread's event-loop delay is sampled.
//
//   npm run bench:checker
//   npm run bench:checker -- bwrap        # also judge real 64 MiB outputs in the sandbox
//   BENCH_MIB=16 npm run bench:checker    # smaller outputs
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker, isMainThread, parentPort } from "node:worker_threads";
import { getHeapStatistics } from "node:v8";
import type { Checker } from "@sonocode/contracts";
import { checkOutput } from "../src/checkers.js";
import { createCheckPool } from "../src/check/check-pool.js";
import { createJudge } from "../src/index.js";

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_MIB ?? 64) * MiB;
const TIME_BUDGET_MS = 1000;
const HEAP_BUDGET_MIB = 100;
const LOOP_P99_BUDGET_MS = 50;

interface Case {
  name: string;
  checker: Checker;
  expected: string;
  actual: () => Buffer;
}

function filled(byte: number, prefix = "", suffix = ""): Buffer {
  const out = Buffer.allocUnsafe(SIZE);
  out.fill(byte);
  out.write(prefix, 0, "latin1");
  if (suffix) out.write(suffix, SIZE - suffix.length, "latin1");
  return out;
}

function repeated(unit: string): Buffer {
  const out = Buffer.allocUnsafe(SIZE);
  out.fill(unit, "latin1");
  return out;
}

const EXACT: Checker = { type: "exact" };
const TOKENS: Checker = { type: "tokens" };
const FLOAT: Checker = { type: "float" };

const CASES: Case[] = [
  { name: "exact: one line of spaces", checker: EXACT, expected: "3\n", actual: () => filled(0x20, "3") },
  { name: "exact: spaces then a letter", checker: EXACT, expected: "3\n", actual: () => filled(0x20, "3", "x") },
  { name: "exact: mixed tabs and spaces", checker: EXACT, expected: "3\n", actual: () => repeated(" \t") },
  { name: "exact: right answer + newlines", checker: EXACT, expected: "3\n", actual: () => filled(0x0a, "3\n") },
  { name: "exact: right answer + CRLF", checker: EXACT, expected: "3\n", actual: () => repeated("\r\n").fill("3", 0, 1) },
  { name: "exact: lone CRs", checker: EXACT, expected: "3\n", actual: () => filled(0x0d) },
  { name: "exact: digits", checker: EXACT, expected: "7\n", actual: () => filled(0x37) },
  { name: "exact: many short lines", checker: EXACT, expected: "a\n", actual: () => repeated("a\n") },
  { name: "tokens: right answer + newlines", checker: TOKENS, expected: "3", actual: () => filled(0x0a, "3\n") },
  { name: "tokens: digits", checker: TOKENS, expected: "7", actual: () => filled(0x37) },
  { name: "tokens: spaces around the answer", checker: TOKENS, expected: "3", actual: () => filled(0x20, "3") },
  { name: "float: digits", checker: FLOAT, expected: "7", actual: () => filled(0x37) },
  { name: "float: long number then junk", checker: FLOAT, expected: "1", actual: () => filled(0x31, "1.", "x") },
  { name: "float: long mantissa + exponent", checker: FLOAT, expected: "1", actual: () => filled(0x31, "", "e") },
  { name: "float: many tokens", checker: FLOAT, expected: "0.5", actual: () => repeated("0.5 ") },
  { name: "float: right answer + spaces", checker: FLOAT, expected: "0.5", actual: () => filled(0x20, "0.5000001") },
];

// As a worker thread, this file is the output producer of the pool phase: it builds each
// 64 MiB output and transfers it to the main thread, the way an engine's output arrives
// there already built, so the main thread's loop measures the judge's work only.
if (!isMainThread) {
  parentPort!.on("message", (index: number) => {
    const actual = CASES[index]!.actual();
    parentPort!.postMessage(actual, [actual.buffer as ArrayBuffer]);
  });
} else {
  await main();
}

function startProducer(): Worker {
  const tsx = import.meta.resolve("tsx/esm/api");
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`, { eval: true });
}

function produce(producer: Worker, index: number): Promise<Buffer> {
  return new Promise((resolve) => {
    producer.once("message", (bytes: Uint8Array) => resolve(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    producer.postMessage(index);
  });
}

function heapUsedMiB(): number {
  return getHeapStatistics().used_heap_size / MiB;
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const rows: Array<Record<string, string | number>> = [];
  let failures = 0;
  const direct: boolean[] = [];

  console.log(`checker bench: ${SIZE / MiB} MiB outputs, ${CASES.length} cases${gc ? "" : " (run with --expose-gc for exact heap figures)"}`);
  for (const c of CASES) {
    const actual = c.actual();
    gc?.();
    const heapBefore = heapUsedMiB();
    const started = performance.now();
    const accepted = checkOutput(c.checker, c.expected, actual);
    direct.push(accepted);
    const ms = performance.now() - started;
    const heapMiB = Math.max(0, heapUsedMiB() - heapBefore);
    const ok = ms <= TIME_BUDGET_MS && heapMiB <= HEAP_BUDGET_MIB;
    if (!ok) failures++;
    rows.push({ case: c.name, verdict: accepted ? "accepted" : "rejected", ms: Math.round(ms), "heap MiB": Number(heapMiB.toFixed(1)), ok: ok ? "yes" : "NO" });
  }
  console.table(rows);

  // The judge's way: through the worker pool, while this thread keeps serving (sampled delay).
  const pool = createCheckPool({ size: 2 });
  await pool.check(EXACT, { text: "" }, Buffer.alloc(0)); // start the workers outside the measurement
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const producer = startProducer();
  const ticker = setInterval(() => undefined, 1);
  delay.enable();
  const poolStarted = performance.now();
  // Two checks are in flight at once, one per worker; outputs come from the producer thread.
  const inFlight = new Set<Promise<boolean>>();
  for (const c of CASES) {
    while (inFlight.size >= 2) await Promise.race(inFlight);
    const actual = await produce(producer, CASES.indexOf(c));

    const index = CASES.indexOf(c);
    const check: Promise<boolean> = pool
      .check(c.checker, { text: c.expected }, actual)
      .then((accepted) => {
        if (accepted !== direct[index]) {
          failures++;
          console.log(`pool and direct disagree on ${c.name}`);
        }
        return accepted;
      })
      .finally(() => inFlight.delete(check));
    inFlight.add(check);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(inFlight);
  const poolMs = performance.now() - poolStarted;
  delay.disable();
  clearInterval(ticker);
  await pool.close();
  await producer.terminate();
  const p99 = delay.percentile(99) / 1e6;
  const max = delay.max / 1e6;
  console.log(`pool: ${CASES.length} cases in ${Math.round(poolMs)} ms; event-loop delay p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms (budget p99 <= ${LOOP_P99_BUDGET_MS} ms)`);
  if (p99 > LOOP_P99_BUDGET_MS) failures++;
  for (const engine of ["bwrap", "docker"] as const) if (process.argv.includes(engine)) failures += await judgeEndToEnd(engine);
  console.log(failures === 0 ? "all within budget" : `${failures} over budget`);
  process.exitCode = failures === 0 ? 0 : 1;
}

/** A C program printing `prefix`, then `fill` bytes up to just under the 64 MiB output limit. */
function flood(prefix: string, fill: string): string {
  return [
    "#include <stdio.h>",
    "#include <string.h>",
    "static char buf[1 << 20];",
    `int main(void){fputs(${JSON.stringify(prefix)}, stdout);memset(buf, ${JSON.stringify(fill).replace(/"/g, "'")}, sizeof buf);`,
    "for (int i = 0; i < 63; i++) fwrite(buf, 1, sizeof buf, stdout);",
    "fwrite(buf, 1, sizeof buf - 64, stdout);return 0;}",
  ].join("\n");
}

async function judgeEndToEnd(engine: "bwrap" | "docker"): Promise<number> {
  const judge = await createJudge({ engine, maxConcurrency: 2 });
  const programs = [
    { name: "answer + 64 MiB of spaces", source: flood("3", " "), checker: EXACT },
    { name: "answer + 64 MiB of newlines", source: flood("3\n", "\n"), checker: EXACT },
    { name: "64 MiB of digits", source: flood("", "7"), checker: FLOAT },
    { name: "answer + 64 MiB of spaces (tokens)", source: flood("3", " "), checker: TOKENS },
  ];
  let failures = 0;
  try {
    await judge.judge({ language: "C", source: flood("3", " "), tests: [{ input: "", output: "3\n" }] }); // warm-up
    const delay = monitorEventLoopDelay({ resolution: 5 });
    const ticker = setInterval(() => undefined, 1);
    delay.enable();
    const rows: Array<Record<string, string | number>> = [];
    const started = performance.now();
    await Promise.all(
      programs.map(async (p) => {
        const t0 = performance.now();
        const verdict = await judge.judge({ language: "C", source: p.source, tests: [{ input: "", output: "3\n" }, { input: "", output: "3\n" }], checker: p.checker, runAllTests: true });
        rows.push({ program: p.name, status: verdict.status, ms: Math.round(performance.now() - t0) });
      }),
    );
    delay.disable();
    clearInterval(ticker);
    console.table(rows);
    const p99 = delay.percentile(99) / 1e6;
    console.log(`judge (${engine}): ${programs.length} submissions x 2 tests of 64 MiB output in ${Math.round(performance.now() - started)} ms; event-loop delay p99 ${p99.toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`);
    if (p99 > LOOP_P99_BUDGET_MS) failures++;
  } finally {
    await judge.close();
  }
  return failures;
}
